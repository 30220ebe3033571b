//! Fault modes: deliberate misbehaviour of the completion endpoints.

use std::{fmt, str::FromStr};

/// How the completion endpoints (`/v1/chat/completions`, `/v1/completions`) behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultMode {
	/// Correct answers.
	Honest,
	/// A plausible answer that differs from the honest one.
	Wrong,
	/// The honest answer after a delay.
	Slow,
	/// HTTP 500 with an OpenAI error body.
	Error,
	/// HTTP 200 with a JSON content type and a body that is not valid JSON.
	Malformed,
	/// A valid completion whose text is `oversized-bytes` long.
	Oversized,
	/// The honest answer, attributed to another model (`<name>-impostor`).
	WrongModel,
	/// The connection is closed without a response.
	Hangup,
	/// HTTP 400 with the error code `content_filter`: the prompt refused on a content policy, as
	/// hosted endpoints (Azure OpenAI) answer.
	Refuse,
}

impl FaultMode {
	/// Every mode, in a fixed order.
	pub const ALL: [FaultMode; 9] = [
		Self::Honest,
		Self::Wrong,
		Self::Slow,
		Self::Error,
		Self::Malformed,
		Self::Oversized,
		Self::WrongModel,
		Self::Hangup,
		Self::Refuse,
	];

	/// The name used on the command line and by the admin endpoint.
	pub fn as_str(self) -> &'static str {
		match self {
			Self::Honest => "honest",
			Self::Wrong => "wrong",
			Self::Slow => "slow",
			Self::Error => "error",
			Self::Malformed => "malformed",
			Self::Oversized => "oversized",
			Self::WrongModel => "wrong-model",
			Self::Hangup => "hangup",
			Self::Refuse => "refuse",
		}
	}

	/// One line of help for the mode.
	pub fn description(self) -> &'static str {
		match self {
			Self::Honest => "correct answers",
			Self::Wrong => "a plausible answer that differs from the honest one",
			Self::Slow => "the honest answer after --delay-ms milliseconds",
			Self::Error => "HTTP 500 with an OpenAI error body",
			Self::Malformed => "HTTP 200, JSON content type, a body that is not valid JSON",
			Self::Oversized => "a valid completion whose text is --oversized-bytes long",
			Self::WrongModel => "the honest answer, attributed to <model>-impostor",
			Self::Hangup => "close the connection without a response",
			Self::Refuse => "HTTP 400, error code content_filter (a content-policy refusal)",
		}
	}
}

impl fmt::Display for FaultMode {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(self.as_str())
	}
}

/// A name that is not one of [`FaultMode::ALL`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFaultMode(pub String);

impl fmt::Display for UnknownFaultMode {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "unknown fault mode {:?}; expected one of ", self.0)?;
		for (i, mode) in FaultMode::ALL.iter().enumerate() {
			if i > 0 {
				f.write_str(", ")?;
			}
			f.write_str(mode.as_str())?;
		}
		Ok(())
	}
}

impl std::error::Error for UnknownFaultMode {}

impl FromStr for FaultMode {
	type Err = UnknownFaultMode;

	fn from_str(s: &str) -> Result<Self, Self::Err> {
		Self::ALL
			.into_iter()
			.find(|mode| mode.as_str() == s)
			.ok_or_else(|| UnknownFaultMode(s.to_owned()))
	}
}

impl clap::ValueEnum for FaultMode {
	fn value_variants<'a>() -> &'a [Self] {
		&Self::ALL
	}

	fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
		Some(clap::builder::PossibleValue::new(self.as_str()).help(self.description()))
	}
}

/// The fault configuration shared by all connections; changed at run time by `PUT /admin/fault`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultState {
	/// The active mode.
	pub mode: FaultMode,
	/// How long [`FaultMode::Slow`] waits before answering, in milliseconds.
	pub delay_ms: u64,
}

impl FaultState {
	/// The mode a completion request whose prompt is `prompt` is answered in when the fault is
	/// limited to `only_prompt` (`PUT /admin/fault`): this fault's mode for the prompt named, or
	/// for every prompt when none is; honest for any other. Prompts are compared exactly, byte
	/// for byte: a chat's prompt is its messages' contents joined by `"\n"`, so a chat of one
	/// user message (what AgentChain's agent nodes send) matches on that message's content.
	pub fn mode_for(&self, only_prompt: Option<&str>, prompt: &str) -> FaultMode {
		match only_prompt {
			Some(only) if only != prompt => FaultMode::Honest,
			_ => self.mode,
		}
	}
}

impl Default for FaultState {
	fn default() -> Self {
		Self { mode: FaultMode::Honest, delay_ms: 30_000 }
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn names_round_trip_and_unknown_names_are_rejected() {
		for mode in FaultMode::ALL {
			assert_eq!(mode.as_str().parse::<FaultMode>(), Ok(mode));
			assert_eq!(<FaultMode as clap::ValueEnum>::from_str(mode.as_str(), false), Ok(mode));
		}
		let err = "flaky".parse::<FaultMode>().unwrap_err();
		assert_eq!(err, UnknownFaultMode("flaky".into()));
		assert!(err.to_string().contains("honest, wrong, slow, error"));
		assert!("Honest".parse::<FaultMode>().is_err());
	}

	#[test]
	fn a_fault_limited_to_one_prompt_leaves_every_other_prompt_honest() {
		let fault = FaultState { mode: FaultMode::Wrong, delay_ms: 0 };
		assert_eq!(fault.mode_for(None, "any prompt"), FaultMode::Wrong);
		assert_eq!(fault.mode_for(Some("item 3"), "item 3"), FaultMode::Wrong);
		// Exact match only: no prefix, suffix, case or whitespace difference matches.
		for other in ["item 30", "item", "Item 3", "item 3 ", "system\nitem 3", ""] {
			assert_eq!(fault.mode_for(Some("item 3"), other), FaultMode::Honest, "{other:?}");
		}
		assert_eq!(fault.mode_for(Some(""), ""), FaultMode::Wrong);
	}
}
