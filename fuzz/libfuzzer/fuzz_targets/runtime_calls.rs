//! libFuzzer's entry point: any byte string is a sequence of blocks and signed calls through the
//! real runtime (`agentchain_fuzz::run`), every invariant checked; a failure of the sequence is a
//! crash, whose input libFuzzer writes out (then: `scripts/fuzz.sh replay FILE`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
	if let Err(failure) = agentchain_fuzz::run(data) {
		panic!("{failure}");
	}
});
