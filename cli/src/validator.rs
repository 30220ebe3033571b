//! `agentchain validator`: session keys, candidacy and leaving, for the chain's live validator
//! set (`session` and `collatorSelection`; see docs/running-a-node.md).

use crate::{
	chain::{runtime, Chain},
	keys::keypair,
	output::{Progress, Report},
	units::format_amount,
	CliError,
};
use codec::{Decode, DecodeAll};
use serde_json::json;
use subxt::utils::AccountId32;

/// New session keys generated in the keystore of the node at `chain`, with the proof that
/// `owner` may set them (`author_rotateKeysWithOwner`, served on the node's local RPC port).
pub async fn rotate(chain: &Chain, owner: &AccountId32) -> Result<(Vec<u8>, Vec<u8>), CliError> {
	#[derive(serde::Deserialize)]
	struct Generated {
		keys: String,
		proof: String,
	}
	let generated: Generated = chain
		.client
		// The owner as its SCALE encoding (an account id's 32 bytes), which the proof signs.
		.request(
			"author_rotateKeysWithOwner",
			subxt::rpcs::rpc_params![format!("0x{}", hex::encode(owner.0))],
		)
		.await
		.map_err(|e| {
			CliError::Refused(format!(
				"the node at {} did not generate keys ({e}); it does so only on its local, unsafe \
				 RPC port",
				chain.url()
			))
		})?;
	let bytes = |hex: &str| {
		hex::decode(hex.trim_start_matches("0x"))
			.map_err(|_| CliError::Rpc(format!("the node answered keys that are not hex: {hex}")))
	};
	Ok((bytes(&generated.keys)?, bytes(&generated.proof)?))
}

pub async fn rotate_keys(chain: &Chain, owner: AccountId32) -> Result<Report, CliError> {
	let (keys, proof) = rotate(chain, &owner).await?;
	let (keys, proof) = (format!("0x{}", hex::encode(keys)), format!("0x{}", hex::encode(proof)));
	Ok(Report::new(
		format!(
			"new session keys in the keystore of the node at {}, for {owner}:\n  keys:   {keys}\n  proof:  {proof}\nSet them with `agentchain validator set-keys --keys {keys} --proof {proof}`.",
			chain.url()
		),
		json!({ "owner": owner.to_string(), "keys": keys, "proof": proof }),
	))
}

/// `--keys` checked as the arguments are read: hex that is exactly this runtime's session keys.
pub fn parse_session_keys(text: &str) -> Result<crate::units::HexBytes, String> {
	let bytes = crate::units::parse_hex(text)?;
	runtime::runtime_types::agentchain_runtime::SessionKeys::decode_all(&mut &bytes.0[..])
		.map_err(|_| {
			format!(
				"`{text}` is not this runtime's session keys (an Aura and a GRANDPA key, 64 bytes)"
			)
		})?;
	Ok(bytes)
}

/// Sets the signer's session keys: given (`keys` and `proof`, from `rotate-keys`), or else
/// generated now in the keystore of the node at `chain`.
pub async fn set_keys(
	chain: &Chain,
	suri: &str,
	given: Option<(Vec<u8>, Vec<u8>)>,
	progress: &Progress,
) -> Result<Report, CliError> {
	let signer = keypair(suri)?;
	let owner = signer.public_key().to_account_id();
	let (keys, proof) = match given {
		Some(given) => given,
		None => {
			progress.step(&format!("generating session keys on the node at {}", chain.url()));
			rotate(chain, &owner).await?
		},
	};
	let session_keys = runtime::runtime_types::agentchain_runtime::SessionKeys::decode(
		&mut &keys[..],
	)
	.map_err(|_| {
		CliError::Invalid(
			"--keys is not this runtime's session keys (Aura and GRANDPA, 64 bytes)".into(),
		)
	})?;
	let call = runtime::tx().session().set_keys(session_keys, proof);
	let included = chain.submit(&call, &signer, progress).await?;
	Ok(Report::new(
		format!(
			"session keys of {owner} set in block #{}: 0x{}\nThey act from the session after next.",
			included.block_number,
			hex::encode(&keys)
		),
		{
			let mut json = included.json("keys set");
			json["owner"] = json!(owner.to_string());
			json["keys"] = json!(format!("0x{}", hex::encode(&keys)));
			json
		},
	))
}

/// `register`: bond the candidacy bond and queue as a candidate; else leave the candidates.
pub async fn candidacy(
	chain: &Chain,
	suri: &str,
	register: bool,
	progress: &Progress,
) -> Result<Report, CliError> {
	let signer = keypair(suri)?;
	let tx = runtime::tx().collator_selection();
	let (included, verb) = if register {
		(chain.submit(&tx.register_as_candidate(), &signer, progress).await?, "became a candidate")
	} else {
		(chain.submit(&tx.leave_intent(), &signer, progress).await?, "left the candidates")
	};
	let mut report = show_at(chain, included.block_hash).await?;
	report.text = format!(
		"{} {verb} in block #{}\n{}",
		signer.public_key().to_account_id(),
		included.block_number,
		report.text
	);
	let validators = std::mem::take(&mut report.json);
	report.json = included.json(verb);
	report.json["validators"] = validators;
	Ok(report)
}

/// A storage value at a block, decoded.
macro_rules! value {
	($storage:expr, $address:expr) => {
		$storage
			.entry($address)
			.map_err(CliError::rpc)?
			.fetch(())
			.await
			.map_err(CliError::rpc)?
			.decode()
			.map_err(CliError::rpc)?
	};
}

/// The validator set: this session's validators, the invulnerables, the candidates with their
/// bonds, and the candidacy bond.
pub async fn show(chain: &Chain) -> Result<Report, CliError> {
	show_at(chain, chain.best().await?).await
}

/// … at block `block`.
async fn show_at(chain: &Chain, block: subxt::utils::H256) -> Result<Report, CliError> {
	let at = chain.at(block).await?;
	let storage = at.storage();
	let validators: Vec<AccountId32> = value!(storage, runtime::storage().session().validators());
	let invulnerables = value!(storage, runtime::storage().collator_selection().invulnerables()).0;
	let candidates = value!(storage, runtime::storage().collator_selection().candidate_list()).0;
	let bond = value!(storage, runtime::storage().collator_selection().candidacy_bond());
	let session = value!(storage, runtime::storage().session().current_index());
	let mut text = format!(
		"session {session}: {} validator(s); candidacy bond {}\n",
		validators.len(),
		format_amount(bond)
	);
	for validator in &validators {
		text.push_str(&format!("  validator:   {validator}\n"));
	}
	for invulnerable in &invulnerables {
		text.push_str(&format!("  invulnerable: {invulnerable}\n"));
	}
	for candidate in &candidates {
		text.push_str(&format!(
			"  candidate:   {} (bond {})\n",
			candidate.who,
			format_amount(candidate.deposit)
		));
	}
	Ok(Report::new(
		text,
		json!({
			"session": session,
			"validators": validators.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
			"invulnerables": invulnerables.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
			"candidates": candidates.iter().map(|c| json!({ "who": c.who.to_string(), "bond": c.deposit.to_string() })).collect::<Vec<_>>(),
			"candidacyBond": bond.to_string(),
		}),
	))
}
