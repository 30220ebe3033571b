//! The runtime's error logs, caught as failures.
//!
//! A `defensive!` failure (an invariant the code itself found broken) logs an error on
//! `runtime::defensive` and goes on in release builds; an extrinsic that weighed more than it
//! declared logs one on `runtime::frame-support`. Natively, the runtime logs through the `log`
//! crate, so a logger that records every error of a `runtime` target turns each into a failure
//! of the sequence that caused it. (Built with try-runtime, the pallets' failed `try_state` checks
//! log what failed on `try-runtime`: recorded too; and so are FRAME's storage errors, such as an
//! entry an iterator skipped because it does not decode, logged on `frame_support::storage`.) Errors are kept per thread: tests may fuzz in parallel.

use std::{cell::RefCell, sync::Once};

thread_local! {
	static ERRORS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

struct Recorder;

impl log::Log for Recorder {
	fn enabled(&self, metadata: &log::Metadata) -> bool {
		metadata.level() <= log::Level::Error
			&& (metadata.target().starts_with("runtime")
				|| metadata.target() == "try-runtime"
				|| metadata.target().starts_with("frame_support"))
	}

	fn log(&self, record: &log::Record) {
		if self.enabled(record.metadata()) {
			let line = format!("{}: {}", record.target(), record.args());
			ERRORS.with(|errors| errors.borrow_mut().push(line));
		}
	}

	fn flush(&self) {}
}

/// Installs the recorder as the process's logger (once; if another logger was installed first,
/// nothing is recorded, and [`installed`] says so).
pub fn install() {
	static ONCE: Once = Once::new();
	ONCE.call_once(|| {
		if log::set_logger(&Recorder).is_ok() {
			log::set_max_level(log::LevelFilter::Error);
		}
	});
}

/// Whether the recorder is the process's logger: an error logged on a `runtime` target is
/// recorded (and taken back).
pub fn installed() -> bool {
	install();
	take();
	log::error!(target: "runtime::fuzz", "a probe");
	take() == ["runtime::fuzz: a probe"]
}

/// The errors this thread's runtime logged since the last call.
pub fn take() -> Vec<String> {
	ERRORS.with(|errors| std::mem::take(&mut *errors.borrow_mut()))
}
