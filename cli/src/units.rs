//! Amounts of AGC as people write them, model names as the chain identifies them, accounts as
//! SS58 addresses.

use crate::CliError;
use subxt::utils::{AccountId32, H256};

/// Decimal places of one AGC: balances on chain count in units of 10^-12 AGC.
pub const DECIMALS: u32 = 12;
pub const SYMBOL: &str = "AGC";

/// Parses an amount of AGC: `1000`, `0.5`, `1_000.25`, at most 12 decimal places; `…planck`
/// gives the on-chain integer itself.
pub fn parse_amount(text: &str) -> Result<u128, String> {
	let cleaned: String = text.trim().chars().filter(|c| *c != '_').collect();
	let invalid = || format!("`{text}` is not an amount of {SYMBOL} (write e.g. 1000 or 0.25)");
	if let Some(integer) = cleaned.strip_suffix("planck") {
		return integer.trim().parse::<u128>().map_err(|_| invalid());
	}
	let cleaned = cleaned.strip_suffix(SYMBOL).unwrap_or(&cleaned).trim();
	let (whole, fraction) = cleaned.split_once('.').unwrap_or((cleaned, ""));
	if whole.is_empty() && fraction.is_empty() {
		return Err(invalid());
	}
	if !whole.chars().all(|c| c.is_ascii_digit()) || !fraction.chars().all(|c| c.is_ascii_digit()) {
		return Err(invalid());
	}
	if fraction.len() > DECIMALS as usize {
		return Err(format!("`{text}` has more than {DECIMALS} decimal places"));
	}
	let unit = 10u128.pow(DECIMALS);
	let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| invalid())? };
	let fraction_value: u128 = if fraction.is_empty() {
		0
	} else {
		fraction.parse::<u128>().map_err(|_| invalid())?
			* 10u128.pow(DECIMALS - fraction.len() as u32)
	};
	whole
		.checked_mul(unit)
		.and_then(|w| w.checked_add(fraction_value))
		.ok_or_else(|| format!("`{text}` is more {SYMBOL} than can exist"))
}

/// Formats an on-chain balance as AGC, without trailing zeros: `1000.5 AGC`.
pub fn format_amount(planck: u128) -> String {
	let unit = 10u128.pow(DECIMALS);
	let whole = planck / unit;
	let fraction = planck % unit;
	if fraction == 0 {
		format!("{whole} {SYMBOL}")
	} else {
		let digits = format!("{fraction:012}");
		format!("{whole}.{} {SYMBOL}", digits.trim_end_matches('0'))
	}
}

/// A model as the chain knows it: a `0x`-prefixed 32-byte id, or a name, whose id is
/// `blake2_256(name)`.
pub fn model_id(model: &str) -> Result<H256, CliError> {
	if model.is_empty() {
		return Err(CliError::Invalid("a model name cannot be empty".into()));
	}
	if let Some(hex) = model.strip_prefix("0x") {
		let bytes = hex::decode(hex)
			.map_err(|_| CliError::Invalid(format!("`{model}` is not a hex model id")))?;
		let bytes: [u8; 32] = bytes
			.try_into()
			.map_err(|_| CliError::Invalid(format!("a model id is 32 bytes; `{model}` is not")))?;
		return Ok(H256(bytes));
	}
	Ok(H256(sp_crypto_hashing::blake2_256(model.as_bytes())))
}

/// A model argument checked as the arguments are read: a name, or a 32-byte `0x` id.
pub fn valid_model(text: &str) -> Result<String, String> {
	model_id(text).map(|_| text.to_string()).map_err(|e| e.to_string())
}

/// A 32-byte hash as `0x` and 64 hex digits.
pub fn parse_hash(text: &str) -> Result<H256, String> {
	text.strip_prefix("0x")
		.and_then(|h| hex::decode(h).ok())
		.and_then(|b| <[u8; 32]>::try_from(b).ok())
		.map(H256)
		.ok_or_else(|| format!("`{text}` is not a 0x-prefixed 32-byte hash"))
}

/// Bytes given as `0x`-prefixed hex (a type of its own: clap reads a `Vec<u8>` as many values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HexBytes(pub Vec<u8>);

pub fn parse_hex(text: &str) -> Result<HexBytes, String> {
	text.strip_prefix("0x")
		.and_then(|h| hex::decode(h).ok())
		.map(HexBytes)
		.ok_or_else(|| format!("`{text}` is not 0x-prefixed hex"))
}

/// An account by its SS58 address (any network prefix) or `0x` hex public key.
pub fn parse_account(text: &str) -> Result<AccountId32, String> {
	if let Some(hex) = text.strip_prefix("0x") {
		let bytes = hex::decode(hex).map_err(|_| format!("`{text}` is not hex"))?;
		let bytes: [u8; 32] = bytes
			.try_into()
			.map_err(|_| format!("an account id is 32 bytes; `{text}` is not"))?;
		return Ok(AccountId32(bytes));
	}
	text.parse::<AccountId32>()
		.map_err(|_| format!("`{text}` is not an SS58 address or a 0x-prefixed account id"))
}

pub fn hex32(bytes: &H256) -> String {
	format!("0x{}", hex::encode(bytes.0))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn amounts_parse_as_people_write_them() {
		assert_eq!(parse_amount("1000"), Ok(1_000_000_000_000_000));
		assert_eq!(parse_amount("0.5"), Ok(500_000_000_000));
		assert_eq!(parse_amount(".01"), Ok(10_000_000_000));
		assert_eq!(parse_amount("1_000 AGC"), Ok(1_000_000_000_000_000));
		assert_eq!(parse_amount("7planck"), Ok(7));
		assert_eq!(parse_amount("0.000000000001"), Ok(1));
		for bad in ["", ".", "-1", "1e3", "1.2.3", "abc", "0.0000000000001", "1 DOT"] {
			assert!(parse_amount(bad).is_err(), "{bad} parsed");
		}
		assert!(parse_amount(&format!("{}", u128::MAX)).is_err());
	}

	#[test]
	fn amounts_format_without_trailing_zeros() {
		assert_eq!(format_amount(1_000_000_000_000_000), "1000 AGC");
		assert_eq!(format_amount(500_000_000_000), "0.5 AGC");
		assert_eq!(format_amount(1), "0.000000000001 AGC");
		for text in ["12.345", "0.1", "99999"] {
			assert_eq!(format_amount(parse_amount(text).unwrap()), format!("{text} AGC"));
		}
	}

	#[test]
	fn a_model_name_is_hashed_as_the_chain_expects() {
		// `blake2AsHex('ngram-en', 256)` in polkadot.js, as docs/polkadot-js.md uses it.
		let id = model_id("ngram-en").unwrap();
		assert_eq!(id.0, sp_crypto_hashing::blake2_256(b"ngram-en"));
		assert_eq!(model_id(&hex32(&id)).unwrap(), id);
		assert!(model_id("").is_err());
		assert!(model_id("0x1234").is_err());
	}

	#[test]
	fn accounts_parse_from_ss58_and_hex() {
		let alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
		let id = parse_account(alice).unwrap();
		assert_eq!(id.to_string(), alice);
		assert_eq!(parse_account(&format!("0x{}", hex::encode(id.0))).unwrap(), id);
		assert!(parse_account("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ").is_err());
		assert!(parse_account("0x12").is_err());
	}
}
