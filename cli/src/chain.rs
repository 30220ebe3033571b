//! The connection to a node: the typed interface generated from the runtime's metadata, signing
//! and submitting transactions with progress, and errors decoded with their documentation.

use crate::{output::Progress, CliError};
use subxt::{
	config::{DefaultExtrinsicParamsBuilder, PolkadotConfig, RpcConfigFor},
	error::{DispatchError, TransactionEventsError, TransactionProgressError},
	rpcs::{methods::LegacyRpcMethods, RpcClient},
	tx::{Payload, TransactionStatus},
	utils::{AccountId32, H256},
	OnlineClient,
};
use subxt_signer::sr25519::Keypair;

/// The interface to AgentChain's runtime, generated at build time from `cli/metadata.scale` (the
/// runtime crate's tests keep that file equal to the runtime's metadata).
#[subxt::subxt(
	runtime_metadata_path = "metadata.scale",
	derive_for_type(
		path = "agentchain_runtime::SessionKeys",
		derive = "::subxt::ext::codec::Decode",
		recursive
	)
)]
pub mod runtime {}

/// AgentChain's transaction format is Polkadot's: a `MultiAddress<AccountId32, ()>` and
/// `MultiSignature`. Its one extension of its own (`PrioritizeDuties`) adds nothing to what is
/// signed, so the default extensions encode every transaction it accepts.
pub type Config = PolkadotConfig;
pub type Rpc = LegacyRpcMethods<RpcConfigFor<Config>>;

/// A connected node: the typed client and the node's plain RPC methods.
pub struct Chain {
	pub api: OnlineClient<Config>,
	pub rpc: Rpc,
	/// The raw connection, for methods `rpc` does not name.
	pub client: RpcClient,
	url: String,
	/// Whether a transaction is reported once finalized, rather than once in the best block.
	finalized: bool,
	/// The embedded light client, when the chain is followed through one (kept alive with it).
	_light: Option<subxt::lightclient::LightClient>,
}

/// A transaction in a block, with what it emitted.
pub struct Included {
	pub block_number: u64,
	pub block_hash: H256,
	pub events: subxt::extrinsics::ExtrinsicEvents<Config>,
}

impl Included {
	/// The block, for `--json`.
	pub fn block_json(&self) -> serde_json::Value {
		serde_json::json!({ "number": self.block_number, "hash": format!("{:?}", self.block_hash) })
	}

	/// What every command that sends a transaction reports in `--json`: `result` (what was done),
	/// the block, and the transaction's events; each command adds the state it changed.
	pub fn json(&self, result: &str) -> serde_json::Value {
		serde_json::json!({
			"result": result,
			"block": self.block_json(),
			"events": events_json(&self.events),
		})
	}
}

/// The typed client at one block.
pub type AtBlock = subxt::client::OnlineClientAtBlock<Config>;

/// The value under `key` at storage `address`, decoded, in the block `client` reads; `None` when
/// there is none (and the entry has no default).
pub async fn stored<Addr: subxt::storage::Address>(
	client: &AtBlock,
	address: Addr,
	key: Addr::KeyParts,
) -> Result<Option<Addr::Value>, CliError> {
	match client.storage().try_fetch(address, key).await.map_err(CliError::rpc)? {
		Some(value) => value.decode().map(Some).map_err(CliError::rpc),
		None => Ok(None),
	}
}

impl Chain {
	pub async fn connect(url: &str, finalized: bool) -> Result<Self, CliError> {
		let unreachable = |e: &dyn std::fmt::Display| {
			CliError::Connection(format!("cannot reach a node at {url}: {e}"))
		};
		let client = RpcClient::from_insecure_url(url).await.map_err(|e| unreachable(&e))?;
		let rpc = Rpc::new(client.clone());
		let raw = client.clone();
		let api = OnlineClient::<Config>::from_rpc_client(client)
			.await
			.map_err(|e| unreachable(&e))?;
		Ok(Self { api, rpc, client: raw, url: url.to_string(), finalized, _light: None })
	}

	/// Follows the chain with an embedded light client (smoldot) instead of a node's RPC: given
	/// the chain's raw chain spec (`agentchain-node build-spec --raw`), and nodes to reach the
	/// network through (added to the spec's boot nodes). It syncs from the spec's genesis (warp
	/// sync from GRANDPA's proofs) and checks what it reads itself: no RPC provider is trusted.
	pub async fn light(spec: &std::path::Path, bootnodes: &[String]) -> Result<Self, CliError> {
		let text = std::fs::read_to_string(spec).map_err(|e| {
			CliError::Invalid(format!("cannot read the chain spec {}: {e}", spec.display()))
		})?;
		let mut json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
			CliError::Invalid(format!("{} is not a JSON chain spec: {e}", spec.display()))
		})?;
		if json.pointer("/genesis/raw").is_none() {
			return Err(CliError::Invalid(format!(
				"{} is not a raw chain spec: make one with `agentchain-node build-spec --chain … \
				 --raw`",
				spec.display()
			)));
		}
		if !bootnodes.is_empty() {
			let nodes = json
				.as_object_mut()
				.map(|spec| spec.entry("bootNodes").or_insert_with(|| serde_json::json!([])));
			if let Some(serde_json::Value::Array(nodes)) = nodes {
				nodes.extend(bootnodes.iter().map(|b| serde_json::json!(b)));
			}
		}
		let (light, rpc) = subxt::lightclient::LightClient::relay_chain(json.to_string())
			.map_err(|e| CliError::Connection(format!("the light client cannot start: {e}")))?;
		let client = RpcClient::new(rpc);
		let rpc = Rpc::new(client.clone());
		let raw = client.clone();
		let api = OnlineClient::<Config>::from_rpc_client(client).await.map_err(|e| {
			CliError::Connection(format!("the light client cannot follow the chain: {e}"))
		})?;
		Ok(Self {
			api,
			rpc,
			client: raw,
			url: format!("light client ({})", spec.display()),
			finalized: false,
			_light: Some(light),
		})
	}

	pub fn url(&self) -> &str {
		&self.url
	}

	/// Runs a runtime API call at the best block.
	pub async fn query<P>(&self, payload: P) -> Result<P::ReturnType, CliError>
	where
		P: subxt::runtime_apis::Payload,
	{
		self.query_at(self.best().await?, payload).await
	}

	/// Runs a runtime API call at block `at`.
	pub async fn query_at<P>(&self, at: H256, payload: P) -> Result<P::ReturnType, CliError>
	where
		P: subxt::runtime_apis::Payload,
	{
		let client = self.at(at).await?;
		client.runtime_apis().call(payload).await.map_err(CliError::rpc)
	}

	/// The best block's hash.
	pub async fn best(&self) -> Result<H256, CliError> {
		self.rpc
			.chain_get_block_hash(None)
			.await
			.map_err(CliError::rpc)?
			.ok_or_else(|| CliError::Rpc("the node has no best block".into()))
	}

	/// The best block's number.
	pub async fn best_number(&self) -> Result<u64, CliError> {
		self.number_of(self.best().await?).await
	}

	/// The last finalized block's number.
	pub async fn finalized_number(&self) -> Result<u64, CliError> {
		let hash = self.rpc.chain_get_finalized_head().await.map_err(CliError::rpc)?;
		self.number_of(hash).await
	}

	/// The number of block `hash`.
	pub async fn number_of(&self, hash: H256) -> Result<u64, CliError> {
		let header = self
			.rpc
			.chain_get_header(Some(hash))
			.await
			.map_err(CliError::rpc)?
			.ok_or_else(|| CliError::Rpc(format!("the node has no block {hash:?}")))?;
		Ok(u64::from(header.number))
	}

	/// Signs `call` with `signer`, submits it and waits until it is in a block (the best block,
	/// or a finalized one with `--finalized`), reporting each step. A transaction the pool refuses
	/// (too low a balance for its fee, a bad nonce) or that fails in its block is an error naming
	/// the reason; nothing else changes on chain but the fee, which a failed call pays.
	///
	/// The transaction is built at the best block (its runtime version, metadata and mortality),
	/// so that it is valid however far finality lags.
	pub async fn submit<C: Payload>(
		&self,
		call: &C,
		signer: &Keypair,
		progress: &Progress,
	) -> Result<Included, CliError> {
		let finalized = self.finalized;
		let what = call_name(call);
		let signed = self.signed(call, signer).await?;
		let mut watch = signed.submit_and_watch().await.map_err(|e| match e {
			// The node answered: its pool refused the transaction, which is not in it.
			subxt::error::ExtrinsicError::ErrorSubmittingTransaction(
				subxt::error::BackendError::Rpc(subxt::error::RpcError::ClientError(
					subxt::rpcs::Error::User(_),
				)),
			) => pool_refusal(&what, &e),
			// The request may have reached the node: the transaction may be in its pool.
			other => CliError::Rpc(format!(
				"sending {what} failed ({other}); it may still be included: check the signer's \
				 nonce and state before sending it again"
			)),
		})?;
		progress.step(&format!("{what}: submitted as {:?}", watch.extrinsic_hash()));
		while let Some(status) = watch.next().await {
			let status = status.map_err(|e: TransactionProgressError| {
				CliError::Rpc(format!(
					"lost track of {what} ({e}); it may still be included: check the signer's \
					 nonce and state before sending it again"
				))
			})?;
			let in_block = match status {
				TransactionStatus::InBestBlock(in_block) if !finalized => in_block,
				TransactionStatus::InBestBlock(in_block) => {
					progress.step(&format!(
						"{what}: in block {:?}, waiting for finality",
						in_block.block_hash()
					));
					continue;
				},
				TransactionStatus::InFinalizedBlock(in_block) => in_block,
				TransactionStatus::Invalid { message } => {
					return Err(CliError::Refused(format!(
						"{what} was not included: {}",
						explain_refusal(&message)
					)))
				},
				TransactionStatus::Dropped { message } | TransactionStatus::Error { message } => {
					return Err(CliError::Rpc(format!(
						"the node stopped tracking {what} ({message}); it may still be included: \
						 check the signer's nonce and state before sending it again"
					)))
				},
				_ => continue,
			};
			let block_hash = in_block.block_hash();
			let events = in_block.wait_for_success().await.map_err(|e| failed(&what, e))?;
			let block_number = self.number_of(block_hash).await?;
			progress.step(&format!("{what}: in block #{block_number} ({block_hash:?})"));
			return Ok(Included { block_number, block_hash, events });
		}
		Err(CliError::Rpc(format!("the node stopped reporting on {what}")))
	}

	/// The typed client at the best block: its runtime's constants, storage and calls.
	pub async fn at_best(&self) -> Result<AtBlock, CliError> {
		self.at(self.best().await?).await
	}

	/// The typed client at block `at`.
	///
	/// A block that has just become the best one (its hash read with `chain_getBlockHash`) may
	/// not have reached the client's follow subscription yet, which then knows no header for it:
	/// the client waits for it, up to two seconds, instead of failing the command.
	pub async fn at(&self, at: H256) -> Result<AtBlock, CliError> {
		let mut waited = 0;
		loop {
			match self.api.at_block(at).await {
				Err(subxt::error::OnlineClientAtBlockError::BlockHeaderNotFound { .. })
					if waited < 20 =>
				{
					waited += 1;
					tokio::time::sleep(std::time::Duration::from_millis(100)).await;
				},
				result => return result.map_err(CliError::rpc),
			}
		}
	}

	/// `call` signed by `signer` at the best block with the pool's next nonce, not sent.
	async fn signed<C: Payload>(
		&self,
		call: &C,
		signer: &Keypair,
	) -> Result<
		subxt::transactions::SubmittableTransaction<
			Config,
			subxt::client::OnlineClientAtBlockImpl<Config>,
		>,
		CliError,
	> {
		let what = call_name(call);
		let who: AccountId32 = signer.public_key().to_account_id();
		// The next nonce as the node's pool sees it, so that a transaction sent right after
		// another one of the same account (still in the pool or only in the best block) is next.
		let nonce = self.rpc.system_account_next_index(&who).await.map_err(CliError::rpc)?;
		let params = DefaultExtrinsicParamsBuilder::<Config>::new().nonce(nonce).build();
		let best = self.at_best().await?;
		best.tx().create_signed(call, signer, params).await.map_err(|e| match e {
			subxt::error::ExtrinsicError::IncompatibleCodegen
			| subxt::error::ExtrinsicError::PalletNameNotFound(_)
			| subxt::error::ExtrinsicError::CallNameNotFound { .. }
			| subxt::error::ExtrinsicError::EncodeError(_) => CliError::Incompatible(format!(
				"cannot build {what} for the runtime the node runs ({e}); is this CLI built for \
				 its runtime version?"
			)),
			other => CliError::Rpc(format!("cannot build {what}: {other}")),
		})
	}

	/// The transaction fee `call` would pay now, as the runtime computes it
	/// (`TransactionPaymentApi`). The runtime prices a transaction by its length and weight, not
	/// by its signer, and needs a signed one: it is signed by a throwaway key, so that what the
	/// node sees for pricing could never be submitted on anyone's behalf.
	pub async fn fee_estimate<C: Payload>(&self, call: &C) -> Result<u128, CliError> {
		let mut seed = [0u8; 32];
		getrandom::getrandom(&mut seed)
			.map_err(|e| CliError::Rpc(format!("no randomness for a throwaway key: {e}")))?;
		let throwaway = Keypair::from_secret_key(seed)
			.map_err(|e| CliError::Rpc(format!("cannot make a throwaway key: {e}")))?;
		let signed = self.signed(call, &throwaway).await?;
		signed.partial_fee_estimate().await.map_err(CliError::rpc)
	}

	/// The events of the best block and every block after it, one block at a time.
	pub async fn best_blocks(&self) -> Result<subxt::client::Blocks<Config>, CliError> {
		self.api.stream_best_blocks().await.map_err(CliError::rpc)
	}
}

fn call_name<C: Payload>(call: &C) -> String {
	match (call.pallet_name(), call.call_name()) {
		(pallet, name) => format!("{}.{}", lower_first(pallet), camel(name)),
	}
}

/// `Agents` as polkadot.js names a pallet: `agents`.
pub fn lower_first(s: &str) -> String {
	let mut chars = s.chars();
	chars
		.next()
		.map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
		.unwrap_or_default()
}

/// `submit_task` as polkadot.js names it: `submitTask`.
fn camel(s: &str) -> String {
	let mut out = String::new();
	let mut upper = false;
	for c in s.chars() {
		if c == '_' {
			upper = true;
		} else if upper {
			out.push(c.to_ascii_uppercase());
			upper = false;
		} else {
			out.push(c);
		}
	}
	out
}

fn pool_refusal(what: &str, e: &dyn std::fmt::Display) -> CliError {
	CliError::Refused(format!("the node refused {what}: {}", explain_refusal(&e.to_string())))
}

/// The pool's reasons in an operator's words, where they are terse.
fn explain_refusal(message: &str) -> String {
	if message.contains("Inability to pay some fees") {
		"the signer cannot pay the transaction fee (too low a free balance)".to_string()
	} else if message.contains("Transaction is outdated") || message.contains("Stale") {
		format!(
			"{message} (its nonce was already used: another transaction of this signer came first)"
		)
	} else {
		message.to_string()
	}
}

/// A call that failed in its block: the pallet's error, named and explained by its documentation
/// from the metadata.
fn failed(what: &str, e: TransactionEventsError) -> CliError {
	match e {
		TransactionEventsError::ExtrinsicFailed(DispatchError::Module(module)) => match module
			.details()
		{
			Ok(details) => CliError::Dispatch {
				call: what.to_string(),
				error: format!("{}.{}", lower_first(details.pallet.name()), details.variant.name),
				docs: details.variant.docs.join(" ").trim().to_string(),
			},
			Err(_) => CliError::Dispatch {
				call: what.to_string(),
				error: format!("module error {:?}", module.bytes()),
				docs: String::new(),
			},
		},
		TransactionEventsError::ExtrinsicFailed(other) => CliError::Dispatch {
			call: what.to_string(),
			error: format!("{other:?}"),
			docs: other.to_string(),
		},
		other => CliError::Rpc(format!("{what}: {other}")),
	}
}

/// A transaction's events, by name (`agents.AgentRegistered`, as errors are named) with their
/// fields, for `--json`; an event that does not decode is listed as such.
fn events_json(events: &subxt::extrinsics::ExtrinsicEvents<Config>) -> serde_json::Value {
	let list: Vec<_> = events
		.iter()
		.map(|event| match event {
			Ok(event) => {
				let fields = event
					.decode_fields_unchecked_as::<subxt::ext::scale_value::Composite<()>>()
					.map(|fields| fields.to_string())
					.unwrap_or_else(|e| format!("<undecodable: {e}>"));
				serde_json::json!({
					"name": format!("{}.{}", lower_first(event.pallet_name()), event.event_name()),
					"fields": fields,
				})
			},
			Err(e) => serde_json::json!({ "name": "<undecodable>", "fields": e.to_string() }),
		})
		.collect();
	serde_json::Value::Array(list)
}
