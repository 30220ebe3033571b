//! `agentchain agent run`: the edge agent, a standalone process that does an agent's work — runs
//! its assigned tasks against an inference endpoint, commits and reveals the results, re-executes
//! disputed tasks and votes on the juries it is drawn for, and keeps the agent live with
//! heartbeats — with no node of its own.
//!
//! It follows the same rules as an agent node's off-chain workers (`pallet-inference`'s executor,
//! `pallet-challenges`' juror, `pallet-agents`' heartbeat): what decides the bytes it commits to
//! and when it sends a duty again is `agentchain_execution`'s, one crate for both. Where the
//! node keeps its records in offchain local storage, the edge agent keeps them in a state file
//! (`--state-dir`), written and synced to disk before any commitment is sent: a result or vote is
//! committed once and revealed as committed, across crashes and restarts. The state directory is
//! locked while an edge agent runs, so two processes never act on one state.
//!
//! The chain is read and written through a node's RPC (`--url`, a node it trusts) or through an
//! embedded light client (`--chain-spec`), which checks headers, finality and storage proofs
//! itself and trusts no RPC provider. See `docs/edge-agent.md`.

use crate::{
	chain::{
		runtime::{
			self,
			runtime_types::{
				agentchain_primitives::{
					agents::{AgentStatus, Role},
					challenges::DisputePhase,
					inference::TaskStatus,
					inference::VerificationMode,
				},
				pallet_challenges::types::Dispute,
				pallet_inference::types::{TaskInfo, TaskInput},
			},
		},
		stored, AtBlock, Chain,
	},
	keys::keypair,
	CliError,
};
use agentchain_execution::{
	answer_hash, call_budget_ms, calls_again, checked_input, commitment_of, completion_output,
	completion_request, due, exact_match_vote, fetchable_uri, heartbeat_due, jury_vote,
	parse_model_mapping, release_nonce, resend_nonce, reserve_nonce, truncate_output,
	vote_commitment, EndpointApi, Fault, ModelMapping, Sampling, VoteRecord, WorkRecord,
	RESUBMIT_AFTER,
};
use codec::{Decode, Encode};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::{client::legacy::Client as HttpClient, rt::TokioExecutor};
use serde_json::{json, Value};
use std::{
	collections::{BTreeMap, BTreeSet},
	io::Write,
	os::unix::fs::{DirBuilderExt, OpenOptionsExt},
	path::{Path, PathBuf},
	sync::Arc,
	time::Duration,
};
use subxt::utils::{AccountId32, H256};
use subxt_signer::sr25519::Keypair;
use tokio::{sync::mpsc, time::Instant};

/// Longest wait, in seconds, for the light client to sync before the edge agent gives up.
pub const LIGHT_SYNC_TIMEOUT_S: u64 = 180;

/// Most tasks looked at per block (as an agent node's executor worker).
pub const MAX_TASKS_SCANNED: usize = 1024;

/// Most jury seats looked at per block (as an agent node's juror worker).
pub const MAX_DUTIES_SCANNED: usize = 256;

/// Most task executions in flight at once: what a device running a small model serves at once
/// (an agent node makes its calls one after another, up to 64 a block).
pub const MAX_CALLS_IN_FLIGHT: usize = 4;

/// Most re-executions for votes in flight at once, apart from the executions, so that slow
/// tasks never keep a juror from its seat (an agent node makes at most two a block).
pub const MAX_VOTES_IN_FLIGHT: usize = 2;

/// Which OpenAI-compatible API the endpoint is called through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ApiArg {
	/// `POST {endpoint}/chat/completions`, the prompt as one user message.
	Chat,
	/// `POST {endpoint}/completions`, the prompt as it is.
	Completions,
}

/// The options of `agentchain agent run`.
#[derive(clap::Args, Debug)]
pub struct RunOptions {
	/// The operator key the agent's work is signed with (a secret URI: phrase, 0x seed, with
	/// derivations). The agent is the one this key operates (`agent set-operator`), or the key's
	/// own account if it is itself a registered agent.
	#[arg(long, env = "AGENTCHAIN_OPERATOR_KEY", value_parser = crate::valid_suri, hide_env_values = true)]
	pub operator_key: String,
	/// Base URL of the OpenAI-compatible inference API, e.g. `http://127.0.0.1:8080/v1`.
	#[arg(long, value_name = "URL", value_parser = valid_endpoint)]
	pub endpoint: String,
	/// The API to call.
	#[arg(long, value_enum, default_value = "chat")]
	pub api: ApiArg,
	/// File holding the endpoint's API key, sent as `Authorization: Bearer <key>`; without it the
	/// key is read from AGENTCHAIN_INFERENCE_API_KEY, if set.
	#[arg(long, value_name = "PATH")]
	pub api_key_file: Option<PathBuf>,
	/// A model served (repeat for several): NAME, NAME=ENDPOINT_NAME or 0xID=ENDPOINT_NAME.
	/// Tasks for other models are left to expire.
	#[arg(long = "model", value_name = "MODEL[=ENDPOINT_NAME]", required = true, value_parser = parse_model_mapping)]
	pub models: Vec<ModelMapping>,
	/// Longest time one endpoint call may take, in seconds (a deadline may cut it shorter).
	#[arg(long, value_name = "SECONDS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
	pub timeout: u64,
	/// Largest response body accepted from the endpoint (or a referenced input), in bytes.
	#[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024, value_parser = clap::value_parser!(u32).range(1..))]
	pub max_response_bytes: u32,
	/// Where the agent keeps what it committed to (default:
	/// `$XDG_STATE_HOME/agentchain/edge-<operator address>`, or under `~/.local/state`).
	#[arg(long, value_name = "DIR")]
	pub state_dir: Option<PathBuf>,
	/// Follow the chain with the embedded light client, given the chain's (raw) chain spec,
	/// instead of a node's RPC at --url.
	#[arg(long, value_name = "FILE")]
	pub chain_spec: Option<PathBuf>,
	/// A node to reach the peer-to-peer network through (light client only; repeat for
	/// several): a multiaddress ending in /p2p/<peer id>. Added to the chain spec's boot nodes.
	#[arg(long, value_name = "MULTIADDR", requires = "chain_spec")]
	pub bootnode: Vec<String>,
}

fn valid_endpoint(text: &str) -> Result<String, String> {
	let uri: hyper::Uri = text.parse().map_err(|e| format!("`{text}` is not a URL: {e}"))?;
	match (uri.scheme_str(), uri.authority()) {
		(Some("http" | "https"), Some(_)) => Ok(text.trim_end_matches('/').to_string()),
		_ => Err(format!("`{text}`: the endpoint is an http:// or https:// URL")),
	}
}

// ---------------------------------------------------------------------------------------------
// The endpoint.

type Https = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// The inference endpoint and how it is called.
pub struct Endpoint {
	base_url: String,
	api: EndpointApi,
	api_key: Option<String>,
	models: Vec<ModelMapping>,
	timeout: Duration,
	max_response_bytes: usize,
	client: HttpClient<Https, Full<Bytes>>,
}

impl Endpoint {
	pub fn new(options: &RunOptions) -> Result<Self, CliError> {
		let api_key = match &options.api_key_file {
			Some(path) => {
				let key = std::fs::read_to_string(path).map_err(|e| {
					CliError::Invalid(format!("cannot read the API key {}: {e}", path.display()))
				})?;
				if key.trim().is_empty() {
					return Err(CliError::Invalid(format!(
						"the API key file {} is empty",
						path.display()
					)));
				}
				Some(key.trim().to_string())
			},
			None => std::env::var("AGENTCHAIN_INFERENCE_API_KEY")
				.ok()
				.map(|key| key.trim().to_string())
				.filter(|key| !key.is_empty()),
		};
		if let Some(key) = &api_key {
			hyper::header::HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
				CliError::Invalid("the API key holds characters an HTTP header cannot".into())
			})?;
		}
		let connector = hyper_rustls::HttpsConnectorBuilder::new()
			.with_native_roots()
			.map_err(|e| {
				CliError::Invalid(format!("cannot load the system's root certificates: {e}"))
			})?
			.https_or_http()
			.enable_http1()
			.build();
		Ok(Self {
			base_url: options.endpoint.clone(),
			api: match options.api {
				ApiArg::Chat => EndpointApi::Chat,
				ApiArg::Completions => EndpointApi::Completions,
			},
			api_key,
			models: options.models.clone(),
			timeout: Duration::from_secs(options.timeout),
			max_response_bytes: options.max_response_bytes as usize,
			client: HttpClient::builder(TokioExecutor::new()).build(connector),
		})
	}

	fn model_name(&self, model: &H256) -> Option<&str> {
		self.models.iter().find(|m| &m.id == model).map(|m| m.name.as_str())
	}

	/// Sends a request and reads the body of its 200 answer (any other status is a
	/// [`Fault::Status`]), bounded in size and by `deadline`.
	async fn call(
		&self,
		request: impl Fn() -> hyper::Request<Full<Bytes>>,
		deadline: Instant,
	) -> Result<Vec<u8>, Fault> {
		match self.answer(request, deadline, false).await? {
			(200, body) => Ok(body),
			(status, _) => Err(Fault::Status(status)),
		}
	}

	/// Sends a request and reads its answer: the status, and the body when the status is 200,
	/// or, with `error_bodies`, 400 or 422 (which may refuse the prompt on the endpoint's content policy,
	/// [`agentchain_execution::is_content_refusal`]), bounded in size and by `deadline`. A
	/// request whose connection fails is sent once more while time remains (a kept-alive
	/// connection the server closed as it was reused fails at once, though the endpoint is
	/// up), as the node does.
	async fn answer(
		&self,
		request: impl Fn() -> hyper::Request<Full<Bytes>>,
		deadline: Instant,
		error_bodies: bool,
	) -> Result<(u16, Vec<u8>), Fault> {
		match self.answer_once(request(), deadline, error_bodies).await {
			Err(Fault::Unreachable) if Instant::now() < deadline => {
				self.answer_once(request(), deadline, error_bodies).await
			},
			result => result,
		}
	}

	async fn answer_once(
		&self,
		request: hyper::Request<Full<Bytes>>,
		deadline: Instant,
		error_bodies: bool,
	) -> Result<(u16, Vec<u8>), Fault> {
		let max = self.max_response_bytes;
		let respond = async { self.client.request(request).await.map_err(|_| Fault::Unreachable) };
		let response =
			tokio::time::timeout_at(deadline, respond).await.map_err(|_| Fault::Timeout)??;
		let status = response.status().as_u16();
		if status != 200 && !(error_bodies && matches!(status, 400 | 422)) {
			return Ok((status, Vec::new()));
		}
		let read = async {
			let declared = response
				.headers()
				.get(hyper::header::CONTENT_LENGTH)
				.and_then(|v| v.to_str().ok())
				.and_then(|v| v.trim().parse::<u64>().ok());
			if declared.is_some_and(|len| len > max as u64) {
				return Err(Fault::Oversized);
			}
			let mut body = response.into_body();
			let mut bytes = Vec::new();
			while let Some(frame) = body.frame().await {
				let frame = frame.map_err(|_| Fault::Unreachable)?;
				if let Some(data) = frame.data_ref() {
					if bytes.len() + data.len() > max {
						return Err(Fault::Oversized);
					}
					bytes.extend_from_slice(data);
				}
			}
			Ok(bytes)
		};
		match tokio::time::timeout_at(deadline, read).await.map_err(|_| Fault::Timeout) {
			Ok(Ok(body)) => Ok((status, body)),
			// An error's body that cannot be read whole is an error without a body: only a
			// 200's failures are the call's, as on the node.
			Ok(Err(fault)) | Err(fault) if status == 200 => Err(fault),
			_ => Ok((status, Vec::new())),
		}
	}

	/// Task `task`'s output from the endpoint, truncated to `max_output_len` bytes; `Ok(None)`
	/// when its referenced input cannot be obtained (answered as `INPUT_UNAVAILABLE`).
	pub async fn execute(
		&self,
		task: &TaskInfo,
		max_output_len: usize,
		deadline: Instant,
	) -> Result<Option<Vec<u8>>, Fault> {
		match self.infer(task, max_output_len, deadline).await {
			Ok(output) => Ok(Some(output)),
			Err(fault) if fault.is_input_fault() => Ok(None),
			Err(fault) => Err(fault),
		}
	}

	async fn infer(
		&self,
		task: &TaskInfo,
		max_output_len: usize,
		deadline: Instant,
	) -> Result<Vec<u8>, Fault> {
		let model = self.model_name(&task.model).ok_or(Fault::UnknownModel)?;
		let prompt = match &task.input {
			TaskInput::Inline(bytes) => {
				String::from_utf8(bytes.0.clone()).map_err(|_| Fault::InputNotText)?
			},
			TaskInput::Reference { hash, uri } => {
				let uri = fetchable_uri(&uri.0).ok_or(Fault::InputUnavailable)?.to_string();
				let request = || {
					hyper::Request::get(uri.as_str())
						.body(Full::new(Bytes::new()))
						.unwrap_or_else(|_| hyper::Request::new(Full::new(Bytes::new())))
				};
				if uri.parse::<hyper::Uri>().is_err() {
					return Err(Fault::InputUnavailable);
				}
				let bytes =
					self.call(request, deadline).await.map_err(|_| Fault::InputUnavailable)?;
				checked_input(bytes, hash)?
			},
			TaskInput::Batch { .. } => return Err(Fault::Batch),
		};
		let sampling = Sampling {
			max_tokens: task.params.max_tokens,
			temperature_milli: task.params.temperature_milli,
			seed: task.params.seed,
		};
		let (url, body) = completion_request(&self.base_url, self.api, model, &prompt, &sampling);
		let body = Bytes::from(body);
		let request = || {
			let mut builder = hyper::Request::post(url.as_str())
				.header(hyper::header::CONTENT_TYPE, "application/json")
				.header(hyper::header::ACCEPT, "application/json");
			if let Some(key) = &self.api_key {
				builder = builder.header(hyper::header::AUTHORIZATION, format!("Bearer {key}"));
			}
			builder
				.body(Full::new(body.clone()))
				.unwrap_or_else(|_| hyper::Request::new(Full::new(Bytes::new())))
		};
		let (status, body) = self.answer(request, deadline, true).await?;
		let output = completion_output(status, &body, model)?;
		Ok(truncate_output(output, max_output_len))
	}
}

// ---------------------------------------------------------------------------------------------
// The state file.

/// A work record's key: the task, the agent, and the task's round (`reassignments`).
type WorkKey = (u64, [u8; 32], u32);
/// A vote record's key: the disputed task, the juror, and the dispute's round.
type VoteKey = (u64, [u8; 32], u32);

/// What the edge agent keeps across restarts.
#[derive(Encode, Decode, Default, Debug)]
struct State {
	/// The genesis hash of the chain the records are for.
	genesis: [u8; 32],
	work: BTreeMap<WorkKey, WorkRecord>,
	votes: BTreeMap<VoteKey, VoteRecord>,
	/// The block the last heartbeat was sent at, if one is not known to be on chain.
	heartbeat_sent_at: Option<u64>,
	/// The next nonce the operator key has not used and the block it was last used at.
	nonce: Option<(u64, u64)>,
}

/// The state file, locked for the life of the process.
struct Store {
	path: PathBuf,
	state: State,
	_lock: std::fs::File,
}

impl Store {
	/// Opens (or creates) the state in `dir` for the chain of `genesis`, locking it.
	fn open(dir: &Path, genesis: [u8; 32]) -> Result<Self, CliError> {
		let fail = |what: &str, e: &dyn std::fmt::Display| {
			CliError::Invalid(format!("{what} {}: {e}", dir.display()))
		};
		// Outputs and salts are secrets until revealed: the directory is the operator's alone.
		std::fs::DirBuilder::new()
			.recursive(true)
			.mode(0o700)
			.create(dir)
			.map_err(|e| fail("cannot create the state directory", &e))?;
		let lock = std::fs::OpenOptions::new()
			.create(true)
			.truncate(false)
			.write(true)
			.open(dir.join("lock"))
			.map_err(|e| fail("cannot open the lock of", &e))?;
		match lock.try_lock() {
			Ok(()) => {},
			Err(std::fs::TryLockError::WouldBlock) => {
				return Err(CliError::Invalid(format!(
					"another edge agent is running on {}: two processes acting for one operator \
					 key would commit twice",
					dir.display()
				)))
			},
			Err(std::fs::TryLockError::Error(e)) => return Err(fail("cannot lock", &e)),
		}
		let path = dir.join("state.scale");
		let state = match std::fs::read(&path) {
			Ok(bytes) => State::decode(&mut &bytes[..])
				.map_err(|e| fail("the state file is damaged in", &e))?,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
				State { genesis, ..Default::default() }
			},
			Err(e) => return Err(fail("cannot read the state in", &e)),
		};
		if state.genesis != genesis {
			return Err(CliError::Invalid(format!(
				"the state in {} is for another chain (genesis 0x{}); give another --state-dir",
				dir.display(),
				hex::encode(state.genesis)
			)));
		}
		Ok(Self { path, state, _lock: lock })
	}

	/// Writes the state durably: to a new file, synced, renamed over the old one, and the
	/// directory synced. Once it returns, a crash keeps what was written.
	fn save(&self) -> std::io::Result<()> {
		let tmp = self.path.with_extension("scale.new");
		let mut file = std::fs::OpenOptions::new()
			.write(true)
			.create(true)
			.truncate(true)
			.mode(0o600)
			.open(&tmp)?;
		file.write_all(&self.state.encode())?;
		file.sync_all()?;
		std::fs::rename(&tmp, &self.path)?;
		if let Some(dir) = self.path.parent() {
			std::fs::File::open(dir)?.sync_all()?;
		}
		Ok(())
	}
}

/// The default state directory for an operator key.
fn default_state_dir(operator: &AccountId32) -> Result<PathBuf, CliError> {
	let base = std::env::var_os("XDG_STATE_HOME")
		.filter(|dir| !dir.is_empty())
		.map(PathBuf::from)
		.or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state")))
		.ok_or_else(|| {
			CliError::Invalid(
				"neither XDG_STATE_HOME nor HOME is set: give --state-dir, the same on every start"
					.into(),
			)
		})?;
	Ok(base.join("agentchain").join(format!("edge-{operator}")))
}

// ---------------------------------------------------------------------------------------------
// The agent.

/// Work whose endpoint call finished.
enum Finished {
	/// The output, or the fault, and whether a transient fault gets one more call
	/// ([`calls_again`] at the block the call was made).
	Task { key: WorkKey, result: Result<Option<Vec<u8>>, Fault>, may_call_again: bool },
	/// The vote, or why there is none and whether a later call may get one (a transient fault).
	Vote { key: VoteKey, vote: Result<H256, (String, bool)> },
}

/// What the edge agent prints, one line per event: text, or one JSON object per line.
struct Log {
	json: bool,
}

impl Log {
	fn event(&self, block: u64, event: &str, fields: Value, text: String) {
		let line = if self.json {
			let mut object = json!({ "block": block, "event": event });
			if let (Some(object), Value::Object(fields)) = (object.as_object_mut(), fields) {
				object.extend(fields);
			}
			object.to_string()
		} else {
			format!("#{block} {text}")
		};
		let mut out = std::io::stdout().lock();
		let _ = writeln!(out, "{line}");
		let _ = out.flush();
	}
}

struct Agent {
	chain: Chain,
	endpoint: Arc<Endpoint>,
	signer: Keypair,
	operator: AccountId32,
	store: Store,
	log: Log,
	block_time_ms: u64,
	/// Tasks whose endpoint call is running.
	tasks_in_flight: BTreeSet<u64>,
	/// Disputed tasks being re-executed for a vote.
	votes_in_flight: BTreeSet<u64>,
	finished: mpsc::UnboundedSender<Finished>,
	/// The latest best block seen: hash and number.
	head: (H256, u64),
	/// The agent acted for at the head, last time it was known (`None` before the first step).
	agent: Option<Option<AccountId32>>,
	/// Where the resends of the last block that made any stand: the resends of one block take
	/// consecutive nonces ([`resend_nonce`]; not kept across restarts: a restarted agent's
	/// first resend starts again at the chain's next nonce).
	resent: Option<agentchain_execution::ResendCursor>,
}

/// Runs the edge agent until the chain connection ends or it is stopped.
pub async fn run(
	url: &str,
	options: RunOptions,
	json: bool,
) -> Result<std::convert::Infallible, CliError> {
	let endpoint = Arc::new(Endpoint::new(&options)?);
	let signer = keypair(&options.operator_key)?;
	let operator: AccountId32 = signer.public_key().to_account_id();
	let dir = match &options.state_dir {
		Some(dir) => dir.clone(),
		None => default_state_dir(&operator)?,
	};
	let chain = match &options.chain_spec {
		None => Chain::connect(url, false).await?,
		Some(spec) => tokio::time::timeout(
			Duration::from_secs(LIGHT_SYNC_TIMEOUT_S),
			Chain::light(spec, &options.bootnode),
		)
		.await
		.map_err(|_| light_timeout())??,
	};
	let genesis = chain.api.genesis_hash();
	let store = Store::open(&dir, genesis.0)?;

	// A light client answers once it has synced (warp sync from the spec's genesis): until then
	// the blocks it names may not be readable yet (or, near genesis, pruned by the full nodes).
	// Each attempt is bounded too: a light client may hold a request until it has synced.
	let waiting_since = Instant::now();
	let (best, slot) = loop {
		let attempt = tokio::time::timeout(Duration::from_secs(30), start_at_best(&chain)).await;
		match attempt {
			Ok(Ok(found)) => break found,
			Ok(Err(e)) if options.chain_spec.is_none() => return Err(e),
			Err(_) if options.chain_spec.is_none() => {
				return Err(CliError::Timeout(format!("the node at {url} did not answer")))
			},
			_ if waiting_since.elapsed() < Duration::from_secs(LIGHT_SYNC_TIMEOUT_S) => {
				tokio::time::sleep(Duration::from_millis(500)).await;
			},
			_ => return Err(light_timeout()),
		}
	};

	let (finished, mut done) = mpsc::unbounded_channel();
	let log = Log { json };
	let mut agent = Agent {
		chain,
		endpoint,
		signer,
		operator,
		store,
		log,
		block_time_ms: slot,
		tasks_in_flight: BTreeSet::new(),
		votes_in_flight: BTreeSet::new(),
		finished,
		head: (best, 0),
		agent: None,
		resent: None,
	};
	let number = agent.chain.number_of(best).await?;
	agent.head = (best, number);
	agent.log.event(
		number,
		"started",
		json!({
			"operator": operator.to_string(),
			"endpoint": agent.endpoint.base_url,
			"models": agent.endpoint.models.iter().map(|m| &m.name).collect::<Vec<_>>(),
			"stateDir": dir.display().to_string(),
			"chain": if options.chain_spec.is_some() { "light client" } else { url },
			"records": agent.store.state.work.len() + agent.store.state.votes.len(),
		}),
		format!(
			"edge agent started: operator {operator}, endpoint {}, state in {} ({} records), \
			 chain via {}",
			agent.endpoint.base_url,
			dir.display(),
			agent.store.state.work.len() + agent.store.state.votes.len(),
			if options.chain_spec.is_some() { "the light client" } else { url },
		),
	);

	let mut blocks = agent.chain.best_blocks().await?;
	loop {
		tokio::select! {
			block = blocks.next() => {
				let block = match block {
					Some(Ok(block)) => block,
					Some(Err(e)) => return Err(CliError::Rpc(format!("lost the chain: {e}"))),
					None => return Err(CliError::Rpc("the node stopped sending blocks".into())),
				};
				// Blocks that arrived while the last step ran are stepped over: only the newest is
				// acted on.
				let mut block = block;
				while let Some(Some(Ok(newer))) = futures::FutureExt::now_or_never(blocks.next()) {
					block = newer;
				}
				if block.number() < agent.head.1 {
					continue;
				}
				agent.head = (block.hash(), block.number());
				if let Err(e) = agent.step().await {
					agent.log.event(agent.head.1, "error", json!({ "message": e.to_string() }), format!("error: {e}"));
				}
			},
			Some(finished) = done.recv() => {
				if let Err(e) = agent.finish(finished).await {
					agent.log.event(agent.head.1, "error", json!({ "message": e.to_string() }), format!("error: {e}"));
				}
			},
		}
	}
}

/// The best block and the chain's block time, read there: what the edge agent starts from.
async fn start_at_best(chain: &Chain) -> Result<(H256, u64), CliError> {
	let best = chain.best().await?;
	let at = chain.at(best).await?;
	let slot = at
		.runtime_apis()
		.call(runtime::runtime_apis().aura_api().slot_duration())
		.await
		.map_err(CliError::rpc)?;
	Ok((best, slot.0))
}

fn light_timeout() -> CliError {
	CliError::Timeout(format!(
		"the light client could not follow the chain within {LIGHT_SYNC_TIMEOUT_S} s: check the \
		 chain spec and that a --bootnode is reachable"
	))
}

/// The constants that decide what is committed, read from the runtime of the block the agent
/// acts at (so a runtime upgrade that changes them is followed at once).
struct Constants {
	max_output_len: usize,
	liveness_period: u64,
	/// Blocks a jury has to commit its votes (`Challenges::CommitPeriod`).
	vote_commit_period: u64,
}

impl Constants {
	fn at(client: &AtBlock) -> Result<Self, CliError> {
		let constants = client.constants();
		let max_output_len = constants
			.entry(runtime::constants().inference().max_output_len())
			.map_err(CliError::rpc)?;
		let liveness_period = constants
			.entry(runtime::constants().agents().liveness_period())
			.map_err(CliError::rpc)?;
		let vote_commit_period = constants
			.entry(runtime::constants().challenges().commit_period())
			.map_err(CliError::rpc)?;
		Ok(Self {
			max_output_len: max_output_len as usize,
			liveness_period: liveness_period.into(),
			vote_commit_period: vote_commit_period.into(),
		})
	}
}

impl Agent {
	/// Everything due at the head block.
	async fn step(&mut self) -> Result<(), CliError> {
		let (at, now) = self.head;
		let client = self.chain.at(at).await?;
		// The agent this operator key acts for: the one that named it, or its own.
		let agent = match stored(&client, runtime::storage().agents().operators(), (self.operator,))
			.await?
		{
			operated @ Some(_) => operated,
			None => stored(&client, runtime::storage().agents().agents(), (self.operator,))
				.await?
				.map(|_| self.operator),
		};
		if self.agent != Some(agent) {
			match &agent {
				Some(owner) => self.log.event(
					now,
					"acting",
					json!({ "agent": owner.to_string() }),
					format!("acting for agent {owner}"),
				),
				None => self.log.event(
					now,
					"idle",
					json!({}),
					"this key operates no agent (register one, or have its owner run `agent \
					 set-operator` and this key `agent accept-operator`); waiting"
						.to_string(),
				),
			}
			self.agent = Some(agent);
			if let Some(owner) = &agent {
				self.warn_of_batches(&client, owner, now).await?;
			}
		}
		let Some(agent) = agent else { return Ok(()) };
		let constants = Constants::at(&client)?;
		// Each duty on its own: one that cannot be read does not hold up the others. The
		// heartbeat (which keeps the agent selectable) only goes out when the agent could look
		// at all its work.
		let tasks = self.tasks(&client, &agent, &constants).await;
		let duties = self.duties(&client, &agent).await;
		match (tasks, duties) {
			(Ok(()), Ok(())) => self.heartbeat(&client, &agent, &constants).await,
			(Err(e), _) | (_, Err(e)) => Err(e),
		}
	}

	/// Warns when the agent holds the batch-executor role: the edge agent runs no batches, so
	/// a batch drawn to it would expire and cost it the missed commit's slash.
	async fn warn_of_batches(
		&self,
		client: &AtBlock,
		owner: &AccountId32,
		now: u64,
	) -> Result<(), CliError> {
		let Some(info) = stored(client, runtime::storage().agents().agents(), (*owner,)).await?
		else {
			return Ok(());
		};
		if info.roles.0.iter().any(|role| matches!(role, Role::BatchExecutor)) {
			self.log.event(
				now,
				"warning",
				json!({ "message": "batch-executor role held; the edge agent runs no batches" }),
				format!(
					"warning: agent {owner} holds the batch-executor role, but the edge agent runs \
					 no batches: a batch drawn to it would expire and cost the missed commit's \
					 slash (run an agent node with --inference-outputs-url, or `agent set-roles` \
					 without batch-executor)"
				),
			);
		}
		Ok(())
	}

	/// Prints an error of one piece of work, and goes on with the others.
	fn report(&self, what: &str, result: Result<(), CliError>) -> bool {
		match result {
			Ok(()) => true,
			Err(e) => {
				self.log.event(
					self.head.1,
					"error",
					json!({ "work": what, "message": e.to_string() }),
					format!("{what}: {e}"),
				);
				false
			},
		}
	}

	/// Sends the agent's heartbeat when `pallet-agents`' rule says it is due
	/// ([`heartbeat_due`], shared with the node's off-chain worker).
	async fn heartbeat(
		&mut self,
		client: &AtBlock,
		agent: &AccountId32,
		constants: &Constants,
	) -> Result<(), CliError> {
		let now = self.head.1;
		let Some(info) = stored(client, runtime::storage().agents().agents(), (*agent,)).await?
		else {
			return Ok(());
		};
		let Some(resent) = heartbeat_due(
			matches!(info.status, AgentStatus::Leaving),
			u64::from(info.last_seen),
			self.store.state.heartbeat_sent_at,
			now,
			constants.liveness_period,
		) else {
			return Ok(());
		};
		self.store.state.heartbeat_sent_at = Some(now);
		let call = runtime::tx().agents().heartbeat();
		self.send(&call, resent, "heartbeat", json!({}), "heartbeat".to_string()).await;
		Ok(())
	}

	/// Moves every task assigned to the agent on, as far as it can at the head.
	async fn tasks(
		&mut self,
		client: &AtBlock,
		agent: &AccountId32,
		constants: &Constants,
	) -> Result<(), CliError> {
		let mut ids = Vec::new();
		let mut entries = client
			.storage()
			.iter(runtime::storage().inference().assigned_tasks(), (*agent,))
			.await
			.map_err(CliError::rpc)?;
		while let Some(entry) = entries.next().await {
			let entry = entry.map_err(CliError::rpc)?;
			ids.push(entry.key().map_err(CliError::rpc)?.decode().map_err(CliError::rpc)?.1);
			if ids.len() >= MAX_TASKS_SCANNED {
				break;
			}
		}
		// Records of tasks no longer assigned to the agent are over.
		let before = self.store.state.work.len();
		self.store
			.state
			.work
			.retain(|(task, who, _), _| who != &agent.0 || ids.contains(task));
		if self.store.state.work.len() != before {
			self.save()?;
		}
		let mut all = true;
		for id in ids {
			let result = self.task(client, agent, id, constants).await;
			all &= self.report(&format!("task {id}"), result);
		}
		if all {
			Ok(())
		} else {
			Err(CliError::Rpc("some assigned tasks could not be handled (see above)".into()))
		}
	}

	/// Moves task `id`, assigned to `agent`, on as far as it can at the head.
	async fn task(
		&mut self,
		client: &AtBlock,
		agent: &AccountId32,
		id: u64,
		constants: &Constants,
	) -> Result<(), CliError> {
		let now = self.head.1;
		let Some(task) = stored(client, runtime::storage().inference().tasks(), (id,)).await?
		else {
			return Ok(());
		};
		let Some(assignment) = task.assignments.0.iter().find(|a| &a.executor == agent) else {
			return Ok(());
		};
		let key: WorkKey = (id, agent.0, task.reassignments);
		// Records of the task's earlier rounds are over.
		let stale = self.store.state.work.len();
		self.store
			.state
			.work
			.retain(|(t, who, round), _| (*t, who) != (id, &agent.0) || *round == key.2);
		if self.store.state.work.len() != stale {
			self.save()?;
		}
		let record = self.store.state.work.get(&key).cloned();
		let phase_ends = u64::from(task.phase_ends);
		match (&task.status, assignment.commitment, assignment.output) {
			(TaskStatus::Assigned, None, _) => match record {
				None => self.start_task(key, task, phase_ends, constants)?,
				Some(WorkRecord::Working { output, salt, commit_sent_at, .. })
					if now >= commit_sent_at.saturating_add(RESUBMIT_AFTER) =>
				{
					let commitment = commitment_of(&answer_hash(&output), &salt, agent);
					self.store.state.work.insert(
						key,
						WorkRecord::Working {
							output,
							salt,
							commit_sent_at: now,
							reveal_sent_at: None,
						},
					);
					let call = runtime::tx().inference().commit(id, commitment);
					self.send(
						&call,
						true,
						"commit",
						json!({ "task": id, "resend": true }),
						format!("task {id}: commitment not on chain yet, sent again"),
					)
					.await;
				},
				_ => {},
			},
			(TaskStatus::Committed, Some(commitment), None) => match record {
				Some(WorkRecord::Working { output, salt, commit_sent_at, reveal_sent_at })
					if due(reveal_sent_at, now) =>
				{
					let output_hash = answer_hash(&output);
					if commitment_of(&output_hash, &salt, agent) != commitment {
						self.fail_task(
							key,
							"the commitment on chain is not this agent's; cannot reveal",
						)?;
						return Ok(());
					}
					self.store.state.work.insert(
						key,
						WorkRecord::Working {
							output: output.clone(),
							salt,
							commit_sent_at,
							reveal_sent_at: Some(now),
						},
					);
					let resend = reveal_sent_at.is_some();
					let call =
						runtime::tx().inference().reveal(id, output_hash, salt, output, None);
					self.send(
						&call,
						resend,
						"reveal",
						json!({ "task": id, "outputHash": format!("{output_hash:?}"), "resend": resend }),
						format!("task {id}: reveal sent (output hash {output_hash:?})"),
					)
					.await;
				},
				Some(_) => {},
				None => self.fail_task(
					key,
					"committed, but this agent has no record of the result; cannot reveal",
				)?,
			},
			(_, _, Some(_)) => {
				if matches!(record, Some(WorkRecord::Working { .. })) {
					self.store.state.work.insert(key, WorkRecord::Done);
					self.save()?;
					self.log.event(
						now,
						"revealed",
						json!({ "task": id }),
						format!("task {id}: reveal on chain"),
					);
				}
			},
			_ => {},
		}
		Ok(())
	}

	/// Starts the endpoint call of a task in its commit phase, in the background.
	fn start_task(
		&mut self,
		key: WorkKey,
		task: TaskInfo,
		phase_ends: u64,
		constants: &Constants,
	) -> Result<(), CliError> {
		let now = self.head.1;
		if self.tasks_in_flight.contains(&key.0)
			|| self.tasks_in_flight.len() >= MAX_CALLS_IN_FLIGHT
		{
			return Ok(());
		}
		let budget = call_budget_ms(phase_ends, now, self.block_time_ms)
			.min(self.endpoint.timeout.as_millis() as u64);
		if budget == 0 {
			return self.fail_task(key, &Fault::TooLate.to_string());
		}
		self.tasks_in_flight.insert(key.0);
		self.log.event(
			now,
			"executing",
			json!({ "task": key.0, "budgetMs": budget }),
			format!("task {}: calling the endpoint ({budget} ms left)", key.0),
		);
		let endpoint = self.endpoint.clone();
		let finished = self.finished.clone();
		let max_output_len = constants.max_output_len;
		let deadline = Instant::now() + Duration::from_millis(budget);
		// The block the commit phase started in: a transient fault there gets one more call.
		let first_block =
			(!task.extended).then(|| phase_ends.saturating_sub(u64::from(task.commit_period)));
		tokio::spawn(async move {
			let result = endpoint.execute(&task, max_output_len, deadline).await;
			let may_call_again =
				result.as_ref().err().is_some_and(|fault| calls_again(fault, now, first_block));
			let _ = finished.send(Finished::Task { key, result, may_call_again });
		});
		Ok(())
	}

	/// Records that the agent gave up on a task.
	fn fail_task(&mut self, key: WorkKey, why: &str) -> Result<(), CliError> {
		self.store.state.work.insert(key, WorkRecord::Failed);
		self.save()?;
		self.log.event(
			self.head.1,
			"failed",
			json!({ "task": key.0, "reason": why }),
			format!(
				"task {}: {why}; no result committed, the task will expire for this agent",
				key.0
			),
		);
		Ok(())
	}

	/// Takes the result of a finished endpoint call: stores it, then commits to it.
	async fn finish(&mut self, finished: Finished) -> Result<(), CliError> {
		let now = self.head.1;
		match finished {
			Finished::Task { key, result, may_call_again } => {
				self.tasks_in_flight.remove(&key.0);
				if self.store.state.work.contains_key(&key) {
					return Ok(());
				}
				let output = match result {
					Ok(output) => output,
					// A fault a second call may not have, in the commit phase's first block: a
					// later block calls once more, with the time then left.
					Err(fault) if may_call_again => {
						self.log.event(
							now,
							"retrying",
							json!({ "task": key.0, "reason": fault.to_string() }),
							format!("task {}: {fault}; calling once more at a later block", key.0),
						);
						return Ok(());
					},
					Err(fault) => return self.fail_task(key, &fault.to_string()),
				};
				// The chain moved on while the endpoint worked: commit only if the task is still
				// in the same round's commit phase, with this agent's commitment still to come.
				let client = self.chain.at(self.head.0).await?;
				let task =
					stored(&client, runtime::storage().inference().tasks(), (key.0,)).await?;
				let open = task.is_some_and(|task| {
					task.reassignments == key.2
						&& matches!(task.status, TaskStatus::Assigned)
						&& u64::from(task.phase_ends) > now
						&& task
							.assignments
							.0
							.iter()
							.any(|a| a.executor.0 == key.1 && a.commitment.is_none())
				});
				if !open {
					self.log.event(
						now,
						"dropped",
						json!({ "task": key.0, "round": key.2 }),
						format!("task {}: its commit phase is over; the result is dropped", key.0),
					);
					return Ok(());
				}
				let salt = random_salt()?;
				let commitment = commitment_of(&answer_hash(&output), &salt, &AccountId32(key.1));
				let unavailable = output.is_none();
				let bytes = output.as_ref().map_or(0, |o| o.len());
				// Recorded, and saved by `send` before the commitment leaves: after a crash the
				// agent reveals this output, and never commits to another.
				self.store.state.work.insert(
					key,
					WorkRecord::Working { output, salt, commit_sent_at: now, reveal_sent_at: None },
				);
				let call = runtime::tx().inference().commit(key.0, commitment);
				let (event, text) = if unavailable {
					(
						"commit",
						format!("task {}: the input is unavailable; committing to that", key.0),
					)
				} else {
					(
						"commit",
						format!("task {}: result ready ({bytes} bytes), commitment sent", key.0),
					)
				};
				self.send(
					&call,
					false,
					event,
					json!({ "task": key.0, "bytes": bytes, "inputUnavailable": unavailable }),
					text,
				)
				.await;
			},
			Finished::Vote { key, vote } => {
				self.votes_in_flight.remove(&key.0);
				if self.store.state.votes.contains_key(&key) {
					return Ok(());
				}
				let vote = match vote {
					Ok(vote) => vote,
					Err((why, true)) => {
						self.log.event(
							now,
							"voteRetrying",
							json!({ "task": key.0, "round": key.2, "reason": why }),
							format!("dispute {}: {why}; calling once more at a later block", key.0),
						);
						return Ok(());
					},
					Err((why, false)) => return self.fail_vote(key, &why),
				};
				// As for a result: only into the same round's commit phase, seat still open.
				let client = self.chain.at(self.head.0).await?;
				let dispute =
					stored(&client, runtime::storage().challenges().disputes(), (key.0,)).await?;
				let open = dispute.is_some_and(|dispute| {
					dispute.round == key.2
						&& matches!(dispute.phase, DisputePhase::Committing)
						&& u64::from(dispute.phase_ends) > now
						&& dispute
							.jury
							.0
							.iter()
							.any(|seat| seat.juror.0 == key.1 && seat.commitment.is_none())
				});
				if !open {
					self.log.event(
						now,
						"dropped",
						json!({ "task": key.0, "round": key.2 }),
						format!("dispute {}: its commit phase is over; the vote is dropped", key.0),
					);
					return Ok(());
				}
				let salt = random_salt()?;
				let commitment = vote_commitment(key.0, key.2, &vote, &salt, &AccountId32(key.1));
				self.store.state.votes.insert(
					key,
					VoteRecord::Voted { vote, salt, commit_sent_at: now, reveal_sent_at: None },
				);
				let call = runtime::tx().challenges().commit_vote(key.0, commitment);
				self.send(
					&call,
					false,
					"commitVote",
					json!({ "task": key.0, "round": key.2 }),
					format!("dispute {}: vote ready, commitment sent", key.0),
				)
				.await;
			},
		}
		Ok(())
	}

	/// Moves every jury seat of the agent on, as far as it can at the head.
	async fn duties(&mut self, client: &AtBlock, juror: &AccountId32) -> Result<(), CliError> {
		let mut tasks = Vec::new();
		let mut entries = client
			.storage()
			.iter(runtime::storage().challenges().juror_duties(), (*juror,))
			.await
			.map_err(CliError::rpc)?;
		while let Some(entry) = entries.next().await {
			let entry = entry.map_err(CliError::rpc)?;
			tasks.push(entry.key().map_err(CliError::rpc)?.decode().map_err(CliError::rpc)?.1);
			if tasks.len() >= MAX_DUTIES_SCANNED {
				break;
			}
		}
		let mut seats = Vec::new();
		for task in &tasks {
			if let Some(dispute) =
				stored(client, runtime::storage().challenges().disputes(), (*task,)).await?
			{
				seats.push((*task, dispute));
			}
		}
		// Records of seats that are over (the duty left, or the dispute moved to another round).
		let before = self.store.state.votes.len();
		self.store.state.votes.retain(|(task, who, round), _| {
			who != &juror.0 || seats.iter().any(|(t, d)| t == task && d.round == *round)
		});
		if self.store.state.votes.len() != before {
			self.save()?;
		}
		let mut all = true;
		for (task, dispute) in seats {
			let result = self.seat(client, juror, task, dispute).await;
			all &= self.report(&format!("dispute {task}"), result);
		}
		if all {
			Ok(())
		} else {
			Err(CliError::Rpc("some jury seats could not be handled (see above)".into()))
		}
	}

	/// Moves `juror`'s seat on the jury of `dispute` (of task `task`) on, as far as it can.
	async fn seat(
		&mut self,
		client: &AtBlock,
		juror: &AccountId32,
		task: u64,
		dispute: Dispute,
	) -> Result<(), CliError> {
		let now = self.head.1;
		let Some(seat) = dispute.jury.0.iter().find(|seat| &seat.juror == juror) else {
			return Ok(());
		};
		let round = dispute.round;
		let key: VoteKey = (task, juror.0, round);
		let record = self.store.state.votes.get(&key).cloned();
		match (&dispute.phase, seat.commitment, seat.vote) {
			(DisputePhase::Committing, None, _) => match record {
				None => self.start_vote(key, &dispute, client).await?,
				Some(VoteRecord::Voted { vote, salt, commit_sent_at, .. })
					if now >= commit_sent_at.saturating_add(RESUBMIT_AFTER) =>
				{
					let commitment = vote_commitment(task, round, &vote, &salt, juror);
					self.store.state.votes.insert(
						key,
						VoteRecord::Voted { vote, salt, commit_sent_at: now, reveal_sent_at: None },
					);
					let call = runtime::tx().challenges().commit_vote(task, commitment);
					self.send(
						&call,
						true,
						"commitVote",
						json!({ "task": task, "round": round, "resend": true }),
						format!("dispute {task}: vote commitment not on chain yet, sent again"),
					)
					.await;
				},
				_ => {},
			},
			(DisputePhase::Revealing, Some(commitment), None) => match record {
				Some(VoteRecord::Voted { vote, salt, commit_sent_at, reveal_sent_at })
					if due(reveal_sent_at, now) =>
				{
					if vote_commitment(task, round, &vote, &salt, juror) != commitment {
						self.fail_vote(key, "the vote commitment on chain is not this agent's")?;
						return Ok(());
					}
					self.store.state.votes.insert(
						key,
						VoteRecord::Voted { vote, salt, commit_sent_at, reveal_sent_at: Some(now) },
					);
					let resend = reveal_sent_at.is_some();
					let call = runtime::tx().challenges().reveal_vote(task, vote, salt);
					self.send(
						&call,
						resend,
						"revealVote",
						json!({ "task": task, "round": round, "vote": format!("{vote:?}"), "resend": resend }),
						format!("dispute {task}: vote revealed ({vote:?})"),
					)
					.await;
				},
				_ => {},
			},
			_ => {},
		}
		Ok(())
	}

	/// Starts re-executing a disputed task, in the background, to vote on it.
	async fn start_vote(
		&mut self,
		key: VoteKey,
		dispute: &Dispute,
		client: &AtBlock,
	) -> Result<(), CliError> {
		let now = self.head.1;
		if self.votes_in_flight.contains(&key.0)
			|| self.votes_in_flight.len() >= MAX_VOTES_IN_FLIGHT
		{
			return Ok(());
		}
		let exact_match = matches!(dispute.mode, VerificationMode::ExactMatch);
		if !exact_match && dispute.result.is_none() {
			return self.fail_vote(key, "a jury-mode dispute without a result cannot be voted on");
		}
		let budget = call_budget_ms(u64::from(dispute.phase_ends), now, self.block_time_ms)
			.min(self.endpoint.timeout.as_millis() as u64);
		if budget == 0 {
			return Ok(());
		}
		let task = key.0;
		let Some(info) = stored(client, runtime::storage().inference().tasks(), (task,)).await?
		else {
			return self.fail_vote(key, "the disputed task is no longer on chain");
		};
		// The revealed output, read now (at the head) in case the jury must compare with it.
		let revealed = match (&dispute.mode, dispute.result) {
			(VerificationMode::Jury, Some(result)) => {
				stored(client, runtime::storage().inference().outputs(), (task, result))
					.await?
					.and_then(|data| data.inline.map(|bytes| bytes.0))
			},
			_ => None,
		};
		let result = dispute.result;
		let constants = Constants::at(client)?;
		let max_output_len = constants.max_output_len;
		// The block the commit phase started in: a transient fault there gets one more call.
		let first_block = (!dispute.extended)
			.then(|| u64::from(dispute.phase_ends).saturating_sub(constants.vote_commit_period));
		self.votes_in_flight.insert(key.0);
		self.log.event(
			now,
			"reexecuting",
			json!({ "task": task, "round": key.2, "budgetMs": budget }),
			format!("dispute {task}: re-executing the task to vote ({budget} ms left)"),
		);
		let endpoint = self.endpoint.clone();
		let finished = self.finished.clone();
		let deadline = Instant::now() + Duration::from_millis(budget);
		tokio::spawn(async move {
			let vote = match endpoint.execute(&info, max_output_len, deadline).await {
				Err(fault) if calls_again(&fault, now, first_block) => {
					Err((fault.to_string(), true))
				},
				Err(fault) => Err((format!("{fault}; this juror cannot vote"), false)),
				Ok(own) => match (exact_match, result) {
					_ if own.is_none() => Ok(agentchain_execution::INPUT_UNAVAILABLE),
					(true, _) => Ok(exact_match_vote(&own)),
					(false, Some(result)) => Ok(jury_vote(&own, result, || revealed)),
					(false, None) => Err((
						"a jury-mode dispute without a result cannot be voted on".into(),
						false,
					)),
				},
			};
			let _ = finished.send(Finished::Vote { key, vote });
		});
		Ok(())
	}

	fn fail_vote(&mut self, key: VoteKey, why: &str) -> Result<(), CliError> {
		self.store.state.votes.insert(key, VoteRecord::Failed);
		self.save()?;
		self.log.event(
			self.head.1,
			"voteFailed",
			json!({ "task": key.0, "round": key.2, "reason": why }),
			format!("dispute {}: {why}", key.0),
		);
		Ok(())
	}

	fn save(&self) -> Result<(), CliError> {
		self.store.save().map_err(|e| {
			CliError::Rpc(format!(
				"cannot write the state file {}: {e}; nothing is sent until it can be",
				self.store.path.display()
			))
		})
	}

	/// Signs `call` with the operator key and hands it to the chain without waiting: a first
	/// attempt at the next nonce the agent tracks, a resend at the lowest nonce the chain has not
	/// used (the next resends of the same block at the nonces after it). The agent's state — with
	/// whatever the caller recorded about this duty — is saved (and synced) before the transaction
	/// leaves, so a restart never forgets what was sent. The outcome is printed; a duty not on
	/// chain by the next block is sent again.
	async fn send<C: subxt::tx::Payload>(
		&mut self,
		call: &C,
		resend: bool,
		event: &str,
		mut fields: Value,
		text: String,
	) {
		let (at, now) = self.head;
		match self.sign_and_submit(call, resend, at, now).await {
			Ok(nonce) => {
				if let Some(object) = fields.as_object_mut() {
					object.insert("nonce".into(), json!(nonce));
				}
				self.log.event(now, event, fields, text);
			},
			Err(e) => {
				if let Some(object) = fields.as_object_mut() {
					object.insert("refused".into(), json!(e.to_string()));
				}
				self.log.event(now, event, fields, format!("{text}, but it was refused: {e}"));
			},
		}
	}

	async fn sign_and_submit<C: subxt::tx::Payload>(
		&mut self,
		call: &C,
		resend: bool,
		at: H256,
		now: u64,
	) -> Result<u64, CliError> {
		let client = self.chain.at(at).await?;
		let chain_next = stored(&client, runtime::storage().system().account(), (self.operator,))
			.await?
			.map_or(0, |account| u64::from(account.nonce));
		let tracked = self.store.state.nonce;
		let (nonce, track, resent, fresh) = if resend {
			let (nonce, track, resent, fresh) = resend_nonce(tracked, self.resent, chain_next, now);
			(nonce, track, Some(resent), fresh)
		} else {
			let (nonce, track) = reserve_nonce(tracked, chain_next, now);
			(nonce, track, self.resent, true)
		};
		self.store.state.nonce = Some(track);
		if let Err(e) = self.save() {
			// Nothing is sent, so nothing is reserved: the next duty takes this nonce.
			self.store.state.nonce = tracked;
			return Err(e);
		}
		self.resent = resent;
		let sent = self.build_and_submit(client, call, nonce).await;
		if sent.is_err() && fresh {
			// Not sent: a fresh nonce is given back, or every later transaction would wait on it.
			if let Some(track) = release_nonce(self.store.state.nonce, nonce) {
				self.store.state.nonce = Some(track);
				self.save()?;
			}
		}
		sent.map(|()| nonce)
	}

	async fn build_and_submit<C: subxt::tx::Payload>(
		&self,
		client: AtBlock,
		call: &C,
		nonce: u64,
	) -> Result<(), CliError> {
		let params = subxt::config::DefaultExtrinsicParamsBuilder::<crate::chain::Config>::new()
			.nonce(nonce)
			.build();
		let signed =
			client.tx().create_signed(call, &self.signer, params).await.map_err(|e| {
				CliError::Incompatible(format!("cannot build the transaction: {e}"))
			})?;
		signed.submit().await.map_err(|e| CliError::Refused(e.to_string()))?;
		Ok(())
	}
}

/// 32 bytes from the operating system's randomness: a commitment's salt, which nobody may guess
/// before the reveal.
fn random_salt() -> Result<[u8; 32], CliError> {
	let mut salt = [0u8; 32];
	getrandom::getrandom(&mut salt)
		.map_err(|e| CliError::Rpc(format!("no randomness for a salt: {e}")))?;
	Ok(salt)
}

#[cfg(test)]
mod tests {
	use super::*;

	/// An endpoint at a local port answering every request with `status` and `body`, then
	/// closing the connection.
	fn endpoint_answering(status: &'static str, body: &'static str) -> Endpoint {
		use std::io::{Read, Write};
		let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
		let port = listener.local_addr().unwrap().port();
		std::thread::spawn(move || {
			for stream in listener.incoming() {
				let Ok(mut stream) = stream else { return };
				let mut request = [0u8; 4096];
				let _ = stream.read(&mut request);
				let answer = format!(
					"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
					body.len()
				);
				let _ = stream.write_all(answer.as_bytes());
			}
		});
		let options = RunOptions {
			operator_key: "//Alice".into(),
			endpoint: format!("http://127.0.0.1:{port}/v1"),
			api: ApiArg::Chat,
			api_key_file: None,
			models: vec![parse_model_mapping("m").unwrap()],
			timeout: 5,
			max_response_bytes: 4096,
			state_dir: None,
			chain_spec: None,
			bootnode: Vec::new(),
		};
		Endpoint::new(&options).unwrap()
	}

	/// The output of a completion call to `endpoint`, as `infer` forms it.
	async fn output_of(endpoint: &Endpoint) -> Result<Vec<u8>, Fault> {
		let sampling = Sampling { max_tokens: 8, temperature_milli: 0, seed: 0 };
		let (url, body) =
			completion_request(&endpoint.base_url, endpoint.api, "m", "hi", &sampling);
		let request = || {
			hyper::Request::post(url.as_str())
				.header(hyper::header::CONTENT_TYPE, "application/json")
				.body(Full::new(Bytes::from(body.clone())))
				.unwrap()
		};
		let deadline = Instant::now() + Duration::from_secs(5);
		let (status, body) = endpoint.answer(request, deadline, true).await?;
		completion_output(status, &body, "m")
	}

	#[tokio::test]
	async fn a_content_policy_refusal_is_answered_refused_and_any_other_error_is_a_fault() {
		let refusal = r#"{"error":{"message":"filtered","code":"content_filter","status":400}}"#;
		let refused = endpoint_answering("400 Bad Request", refusal);
		assert_eq!(output_of(&refused).await, Ok(agentchain_execution::REFUSED.to_vec()));
		let other = r#"{"error":{"message":"max_tokens too large","code":"invalid_value"}}"#;
		let bad = endpoint_answering("400 Bad Request", other);
		assert_eq!(output_of(&bad).await, Err(Fault::Status(400)));
		// The node's own setup at fault, whatever its body says: never answered refused.
		let unauthorised = endpoint_answering("401 Unauthorized", refusal);
		assert_eq!(output_of(&unauthorised).await, Err(Fault::Status(401)));
		let answer = r#"{"model":"m","choices":[{"message":{"content":"hello"}}]}"#;
		let answering = endpoint_answering("200 OK", answer);
		assert_eq!(output_of(&answering).await, Ok(b"hello".to_vec()));
	}

	#[test]
	fn the_state_survives_a_restart_and_is_locked_while_in_use() {
		let dir = std::env::temp_dir().join(format!("agentchain-edge-test-{}", std::process::id()));
		let _ = std::fs::remove_dir_all(&dir);
		let mut store = Store::open(&dir, [1; 32]).unwrap();
		let record = WorkRecord::Working {
			output: Some(b"out".to_vec()),
			salt: [9; 32],
			commit_sent_at: 4,
			reveal_sent_at: None,
		};
		store.state.work.insert((7, [2; 32], 0), record.clone());
		store.save().unwrap();
		// A second process on the same directory is refused while the first runs.
		assert!(
			matches!(Store::open(&dir, [1; 32]), Err(CliError::Invalid(m)) if m.contains("another edge agent"))
		);
		drop(store);
		let store = Store::open(&dir, [1; 32]).unwrap();
		assert_eq!(store.state.work.get(&(7, [2; 32], 0)), Some(&record));
		drop(store);
		// The records of one chain are never used on another.
		assert!(
			matches!(Store::open(&dir, [3; 32]), Err(CliError::Invalid(m)) if m.contains("another chain"))
		);
		let _ = std::fs::remove_dir_all(&dir);
	}
}
