//! Diagnostics on stderr, chosen with `RUST_LOG`: the reports of the libraries under the CLI —
//! the embedded light client's (smoldot's: its sync, its peers, what it refused) above all.
//!
//! `RUST_LOG` is a comma-separated list of `LEVEL` (every target) and `TARGET=LEVEL` (the
//! targets starting with `TARGET`; the longest match wins), with levels `error`, `warn`, `info`,
//! `debug`, `trace` and `off`: `RUST_LOG=info`, `RUST_LOG=warn,sync-service=debug` (smoldot logs
//! under `smoldot`, `network`, `sync-service-<chain>`, `runtime-<chain>`, `json-rpc-<chain>`).
//! Unset, nothing is logged, and the CLI's own output is unchanged.

use log::{LevelFilter, Log, Metadata, Record};

/// What to log: the level of every target, and of targets by prefix.
#[derive(Debug, PartialEq)]
struct Filter {
	default: LevelFilter,
	targets: Vec<(String, LevelFilter)>,
}

impl Filter {
	/// Parses a `RUST_LOG` value; `Err` names the part that is not understood.
	fn parse(spec: &str) -> Result<Self, String> {
		let mut filter = Filter { default: LevelFilter::Off, targets: Vec::new() };
		for part in spec.split(',').map(str::trim).filter(|part| !part.is_empty()) {
			let level = |text: &str| {
				text.parse::<LevelFilter>().map_err(|_| {
					format!("RUST_LOG: `{part}`: use LEVEL or TARGET=LEVEL, LEVEL one of error, warn, info, debug, trace, off")
				})
			};
			match part.split_once('=') {
				Some((target, text)) => filter.targets.push((target.to_string(), level(text)?)),
				None => filter.default = level(part)?,
			}
		}
		// The longest prefix first, so that the first match is the most specific.
		filter.targets.sort_by(|a, b| b.0.len().cmp(&a.0.len()));
		Ok(filter)
	}

	fn level_of(&self, target: &str) -> LevelFilter {
		self.targets
			.iter()
			.find(|(prefix, _)| target.starts_with(prefix.as_str()))
			.map_or(self.default, |(_, level)| *level)
	}

	fn max(&self) -> LevelFilter {
		self.targets.iter().map(|(_, level)| *level).fold(self.default, Ord::max)
	}
}

struct StderrLogger(Filter);

impl Log for StderrLogger {
	fn enabled(&self, metadata: &Metadata) -> bool {
		metadata.level() <= self.0.level_of(metadata.target())
	}

	fn log(&self, record: &Record) {
		if self.enabled(record.metadata()) {
			let since_epoch = std::time::SystemTime::now()
				.duration_since(std::time::UNIX_EPOCH)
				.unwrap_or_default();
			eprintln!(
				"{}.{:03} {:<5} {}: {}",
				since_epoch.as_secs(),
				since_epoch.subsec_millis(),
				record.level(),
				record.target(),
				record.args()
			);
		}
	}

	fn flush(&self) {}
}

/// Installs the logger `RUST_LOG` asks for; with `RUST_LOG` unset, none.
pub fn init() -> Result<(), String> {
	let Ok(spec) = std::env::var("RUST_LOG") else { return Ok(()) };
	let filter = Filter::parse(&spec)?;
	let max = filter.max();
	log::set_boxed_logger(Box::new(StderrLogger(filter)))
		.map_err(|e| format!("cannot install the logger: {e}"))?;
	log::set_max_level(max);
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn levels_by_target_prefix_the_longest_first() {
		let filter = Filter::parse("warn, smoldot=debug,smoldot::sync=trace").unwrap();
		assert_eq!(filter.level_of("smoldot::sync::warp"), LevelFilter::Trace);
		assert_eq!(filter.level_of("smoldot-light"), LevelFilter::Debug);
		assert_eq!(filter.level_of("hyper"), LevelFilter::Warn);
		assert_eq!(filter.max(), LevelFilter::Trace);
		assert_eq!(Filter::parse("").unwrap().max(), LevelFilter::Off);
		assert!(Filter::parse("smoldot=loud").unwrap_err().contains("`smoldot=loud`"));
		assert!(Filter::parse("verbose").is_err());
	}
}
