//! `agentchain keys`: sr25519 keys as AgentChain accounts use them, and the operator key an
//! agent node signs with.

use crate::{chain::Chain, output::Report, CliError};
use serde_json::json;
use subxt_signer::{bip39::Mnemonic, sr25519::Keypair, SecretUri};

/// The key type under which an agent node keeps operator keys in its keystore
/// (`agentchain_primitives::OPERATOR_KEY_TYPE`).
pub const OPERATOR_KEY_TYPE: &str = "agnt";

/// The derivation a `--dev`/`--alice`… node uses for its own operator key: `<seed>//operator`.
pub const OPERATOR_DERIVATION: &str = "//operator";

/// A signer from a secret URI: a phrase, a `0x` seed, or either followed by derivations
/// (`//Alice`, `<phrase>//agent//operator`, `///password`).
pub fn keypair(suri: &str) -> Result<Keypair, CliError> {
	let uri: SecretUri = suri.parse().map_err(|e| {
		CliError::Invalid(format!(
			"the secret URI is not valid ({e}); write a phrase, a 0x seed or //Name"
		))
	})?;
	Keypair::from_uri(&uri)
		.map_err(|e| CliError::Invalid(format!("the secret URI gives no key: {e}")))
}

fn describe(suri: &str, pair: &Keypair) -> serde_json::Value {
	let public = pair.public_key();
	json!({
		"secretUri": suri,
		"publicKey": format!("0x{}", hex::encode(public.0)),
		"accountId": format!("0x{}", hex::encode(public.0)),
		"address": public.to_account_id().to_string(),
	})
}

fn text_of(title: &str, value: &serde_json::Value) -> String {
	format!(
		"{title}\n  secret URI:  {}\n  public key:  {}\n  address:     {}\n",
		value["secretUri"].as_str().unwrap_or_default(),
		value["publicKey"].as_str().unwrap_or_default(),
		value["address"].as_str().unwrap_or_default(),
	)
}

/// A new account from 16 or 32 bytes of the operating system's randomness, as a 12- or 24-word
/// phrase, with its operator key derived as a node derives its own.
pub fn generate(words: usize) -> Result<Report, CliError> {
	let mut entropy = vec![0u8; if words == 24 { 32 } else { 16 }];
	getrandom::getrandom(&mut entropy)
		.map_err(|e| CliError::Invalid(format!("the system gives no randomness: {e}")))?;
	let phrase = Mnemonic::from_entropy(&entropy).expect("16 or 32 bytes make a phrase");
	let phrase = phrase.to_string();
	let account = describe(&phrase, &keypair(&phrase)?);
	let operator_uri = format!("{phrase}{OPERATOR_DERIVATION}");
	let operator = describe(&operator_uri, &keypair(&operator_uri)?);
	let text = format!(
		"{}{}Keep the phrase secret: it controls the account. Insert the operator key into the \
		 agent node's keystore with `agentchain keys insert-operator`.",
		text_of("Account (owner):", &account),
		text_of("Operator key (for the agent node):", &operator),
	);
	Ok(Report::new(text, json!({ "account": account, "operator": operator })))
}

/// What a secret URI stands for; with `operator`, the operator key derived from it.
pub fn inspect(suri: &str, operator: bool) -> Result<Report, CliError> {
	let suri = if operator { format!("{suri}{OPERATOR_DERIVATION}") } else { suri.to_string() };
	let value = describe(&suri, &keypair(&suri)?);
	Ok(Report::new(text_of("Key:", &value), value))
}

/// Whether `url` names this machine (a loopback address or `localhost`).
pub fn is_local(url: &str) -> bool {
	let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
	let host = match rest.strip_prefix('[') {
		Some(v6) => v6.split(']').next().unwrap_or_default(),
		None => rest.split(['/', ':']).next().unwrap_or_default(),
	};
	host == "localhost"
		|| host.parse::<std::net::IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}

/// Puts an operator key into the keystore of the node at `chain` (`author_insertKey`, which a
/// node allows on its local RPC port only): its off-chain worker then signs the agent's
/// commitments, reveals and heartbeats with it. (The command refuses a node that is not
/// [`is_local`] unless given `--allow-remote`: the secret would cross the network.)
pub async fn insert_operator(chain: &Chain, suri: &str) -> Result<Report, CliError> {
	let pair = keypair(suri)?;
	let public = pair.public_key().0;
	chain
		.rpc
		.author_insert_key(OPERATOR_KEY_TYPE.to_string(), suri.to_string(), public.to_vec())
		.await
		.map_err(|e| {
			CliError::Refused(format!(
				"the node at {} did not take the key ({e}); it accepts keys only on its local, \
				 unsafe RPC port",
				chain.url()
			))
		})?;
	let address = pair.public_key().to_account_id().to_string();
	Ok(Report::new(
		format!("operator key {address} is in the keystore of the node at {}", chain.url()),
		json!({ "address": address, "keyType": OPERATOR_KEY_TYPE, "node": chain.url() }),
	))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn dev_keys_are_the_known_ones() {
		// Alice and her node's operator key, as polkadot.js derives them.
		let alice = inspect("//Alice", false).unwrap();
		assert_eq!(alice.json["address"], "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
		let operator = inspect("//Alice", true).unwrap();
		assert_eq!(operator.json["secretUri"], "//Alice//operator");
		assert_ne!(operator.json["address"], alice.json["address"]);
	}

	#[test]
	fn generated_phrases_are_new_and_give_their_keys() {
		let one = generate(12).unwrap();
		let two = generate(24).unwrap();
		let phrase = one.json["account"]["secretUri"].as_str().unwrap();
		assert_eq!(phrase.split(' ').count(), 12);
		assert_eq!(two.json["account"]["secretUri"].as_str().unwrap().split(' ').count(), 24);
		assert_ne!(one.json["account"]["address"], two.json["account"]["address"]);
		assert_eq!(inspect(phrase, false).unwrap().json["address"], one.json["account"]["address"]);
		assert_eq!(inspect(phrase, true).unwrap().json["address"], one.json["operator"]["address"]);
	}

	#[test]
	fn only_this_machine_is_local() {
		for url in ["ws://127.0.0.1:9944", "ws://localhost:9944", "ws://[::1]:9944", "127.0.0.2"] {
			assert!(is_local(url), "{url}");
		}
		for url in [
			"ws://10.0.0.1:9944",
			"wss://rpc.example.org",
			"ws://[2001:db8::1]:9944",
			"ws://localhost.evil.org",
		] {
			assert!(!is_local(url), "{url}");
		}
	}

	#[test]
	fn a_bad_secret_uri_is_refused() {
		assert!(matches!(keypair("not a phrase at all"), Err(CliError::Invalid(_))));
		assert!(matches!(keypair("0x1234"), Err(CliError::Invalid(_))));
	}
}
