//! libFuzzer's entry point: one input is one call sequence through the real runtime
//! (`agentchain_fuzz::run`); a failed check is a crash.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
	if let Err(failure) = agentchain_fuzz::run(data) {
		panic!("{failure}");
	}
});
