//! `agentchain data`: datasets registered, declared as a model's, attested by curators, and
//! the rewards they earn claimed by their owners.

use crate::{
	chain::{
		runtime::{
			self, data_rewards::events::DatasetRegistered,
			runtime_types::pallet_data_rewards::types::DatasetStatus,
		},
		stored, Chain,
	},
	keys::keypair,
	output::{Progress, Report},
	units::{format_amount, hex32, model_id},
	CliError,
};
use serde_json::{json, Value};
use subxt::utils::H256;

/// What `data register` needs.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("content").required(true).args(["file", "content_hash"])))]
pub struct Registration {
	/// A file whose bytes are the dataset: its blake2-256 hash and size are computed from it.
	#[arg(long, conflicts_with_all = ["content_hash", "size"], value_parser = read_dataset)]
	pub file: Option<DatasetFile>,
	/// blake2-256 of the dataset's bytes (0x…), when it is not a local file.
	#[arg(long, requires = "size", value_parser = crate::units::parse_hash)]
	pub content_hash: Option<H256>,
	/// Its size in bytes, with --content-hash.
	#[arg(long, requires = "content_hash")]
	pub size: Option<u64>,
	/// Where it is published.
	#[arg(long)]
	pub uri: String,
	/// Its licence (an SPDX identifier, say).
	#[arg(long)]
	pub license: String,
	#[arg(long, default_value = "")]
	pub description: String,
}

/// A local file's content as the chain records a dataset's: its blake2-256 hash and size.
#[derive(Clone, Debug)]
pub struct DatasetFile {
	pub hash: H256,
	pub size: u64,
}

/// Reads `--file` as the arguments are read, so that a file that cannot be read is refused
/// before anything is sent.
fn read_dataset(path: &str) -> Result<DatasetFile, String> {
	let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
	Ok(DatasetFile { hash: H256(sp_crypto_hashing::blake2_256(&bytes)), size: bytes.len() as u64 })
}

/// A dataset with its metadata and what it is owed, as the chain holds them at the best block.
pub async fn show(chain: &Chain, id: u64) -> Result<Report, CliError> {
	show_at(chain, id, chain.best().await?).await
}

fn no_such_dataset(id: u64) -> CliError {
	CliError::NotFound(format!("there is no dataset {id}"))
}

/// A dataset's metadata, as text.
#[derive(Default)]
struct DatasetText {
	uri: String,
	license: String,
	description: String,
}

/// Dataset `id`'s metadata at block `block` (`None` for a dataset that does not exist).
async fn text_at(chain: &Chain, id: u64, block: H256) -> Result<Option<DatasetText>, CliError> {
	let at = chain.at(block).await?;
	let metadata = stored(&at, runtime::storage().data_rewards().metadata(), (id,)).await?;
	let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
	Ok(metadata.map(|m| DatasetText {
		uri: text(&m.uri.0),
		license: text(&m.license.0),
		description: text(&m.description.0),
	}))
}

/// … at block `block`.
pub async fn show_at(chain: &Chain, id: u64, block: H256) -> Result<Report, CliError> {
	let at = chain.at(block).await?;
	let info = stored(&at, runtime::storage().data_rewards().datasets(), (id,))
		.await?
		.ok_or_else(|| no_such_dataset(id))?;
	let DatasetText { uri, license, description } =
		text_at(chain, id, block).await?.unwrap_or_default();
	let owed = chain
		.query_at(block, runtime::runtime_apis().data_rewards_api().pending_rewards(id))
		.await?;
	let status = match info.status {
		DatasetStatus::Active => "active".to_string(),
		DatasetStatus::Retired { since } => format!("retired since epoch {since}"),
	};
	let text = format!(
		"dataset {id} — {status}\n  owner:        {}\n  content hash: {} ({} bytes)\n  uri:          {uri}\n  license:      {license}\n  description:  {description}\n  models:       {}\n  deposit:      {}\n  owed:         {}\n",
		info.owner,
		hex32(&info.content_hash),
		info.size,
		info.models,
		format_amount(info.deposit),
		owed.map(format_amount).unwrap_or_else(|| "nothing".into()),
	);
	let json = json!({
		"id": id,
		"owner": info.owner.to_string(),
		"contentHash": hex32(&info.content_hash),
		"size": info.size,
		"uri": uri,
		"license": license,
		"description": description,
		"status": status,
		"models": info.models,
		"deposit": info.deposit.to_string(),
		"registeredAt": info.registered_at,
		"owed": owed.map(|o| o.to_string()),
	});
	Ok(Report::new(text, json))
}

/// The current rewards epoch.
pub async fn epoch(chain: &Chain) -> Result<Report, CliError> {
	let epoch = chain.query(runtime::runtime_apis().data_rewards_api().current_epoch()).await?;
	let text = format!(
		"epoch {} (from block #{})\n  paid in:      {}\n  pot:          {}\n  settled:      {}\n",
		epoch.index,
		epoch.start,
		format_amount(epoch.paid_in),
		format_amount(epoch.pot),
		format_amount(epoch.settled),
	);
	Ok(Report::new(
		text,
		json!({
			"index": epoch.index,
			"start": epoch.start,
			"paidIn": epoch.paid_in.to_string(),
			"cut": epoch.cut.to_string(),
			"totalWeight": epoch.total_weight.to_string(),
			"pot": epoch.pot.to_string(),
			"settled": epoch.settled.to_string(),
		}),
	))
}

pub async fn register(
	chain: &Chain,
	suri: &str,
	registration: Registration,
	progress: &Progress,
) -> Result<Report, CliError> {
	let signer = keypair(suri)?;
	let (hash, size) = match (&registration.file, &registration.content_hash, registration.size) {
		(Some(file), None, None) => (file.hash, file.size),
		(None, Some(hash), Some(size)) => (*hash, size),
		_ => {
			return Err(CliError::Invalid(
				"give the dataset as --file PATH, or as --content-hash HASH --size BYTES".into(),
			))
		},
	};
	let call = runtime::tx().data_rewards().register_dataset(
		hash,
		registration.uri.into_bytes(),
		registration.license.into_bytes(),
		size,
		registration.description.into_bytes(),
	);
	let included = chain.submit(&call, &signer, progress).await?;
	let id = included
		.events
		.find_first::<DatasetRegistered>()
		.and_then(Result::ok)
		.map(|event| event.dataset)
		.ok_or_else(|| CliError::Rpc("the dataset's DatasetRegistered event is missing".into()))?;
	let mut report = show_at(chain, id, included.block_hash).await?;
	report.text = format!("registered in block #{}\n{}", included.block_number, report.text);
	report.json["block"] = included.block_json();
	Ok(report)
}

/// The other data calls: each names a dataset, or a model and its datasets.
pub enum Change {
	/// Fields not given keep their values.
	Update {
		dataset: u64,
		uri: Option<String>,
		license: Option<String>,
		description: Option<String>,
	},
	Retire(u64),
	Declare {
		model: String,
		datasets: Vec<u64>,
	},
	Attest {
		dataset: u64,
		score: u8,
	},
	Claim(u64),
}

pub async fn change(
	chain: &Chain,
	suri: &str,
	change: Change,
	progress: &Progress,
) -> Result<Report, CliError> {
	let signer = keypair(suri)?;
	let tx = runtime::tx().data_rewards();
	let (included, dataset, verb) = match change {
		Change::Update { dataset, uri, license, description } => {
			// The call replaces all three fields: those not given are sent as they are.
			let current = text_at(chain, dataset, chain.best().await?)
				.await?
				.ok_or_else(|| no_such_dataset(dataset))?;
			let call = tx.update_dataset(
				dataset,
				uri.unwrap_or(current.uri).into_bytes(),
				license.unwrap_or(current.license).into_bytes(),
				description.unwrap_or(current.description).into_bytes(),
			);
			(chain.submit(&call, &signer, progress).await?, Some(dataset), "updated")
		},
		Change::Retire(dataset) => (
			chain.submit(&tx.retire_dataset(dataset), &signer, progress).await?,
			Some(dataset),
			"retired",
		),
		Change::Declare { model, datasets } => {
			let model = model_id(&model)?;
			(
				chain.submit(&tx.declare_model(model, datasets), &signer, progress).await?,
				None,
				"declared",
			)
		},
		Change::Attest { dataset, score } => (
			chain.submit(&tx.attest(dataset, score), &signer, progress).await?,
			Some(dataset),
			"attested",
		),
		Change::Claim(dataset) => {
			(chain.submit(&tx.claim(dataset), &signer, progress).await?, Some(dataset), "claimed")
		},
	};
	let (text, dataset_json) = match dataset {
		Some(id) => {
			let report = show_at(chain, id, included.block_hash).await?;
			(format!("{verb} in block #{}\n{}", included.block_number, report.text), report.json)
		},
		None => (format!("{verb} in block #{}", included.block_number), Value::Null),
	};
	let mut json = included.json(verb);
	json["dataset"] = dataset_json;
	Ok(Report::new(text, json))
}
