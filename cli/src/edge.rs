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

mod batch;

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
				pallet_inference::types::{TaskInfo, TaskInput, TaskParams},
			},
		},
		stored, AtBlock, Chain,
	},
	keys::keypair,
	CliError,
};
use agentchain_execution::{
	call_budget_ms, calls_again, checked_input, commitment_of, completion_output,
	completion_request, due, exact_match_vote, fetchable_uri, heartbeat_due, jury_vote,
	parse_model_mapping, release_nonce, resend_nonce, reserve_nonce, truncate_output,
	vote_commitment, EndpointApi, Fault, ModelMapping, Sampling, VoteRecord, WorkRecord,
	RESUBMIT_AFTER,
};
use batch::{BatchDir, BatchJob, BatchOutcome};
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

/// Most batches run at once, each making its calls one after another: one call of the
/// [`MAX_CALLS_IN_FLIGHT`] is always left to single tasks, whose commit phases are short.
pub const MAX_BATCHES_IN_FLIGHT: usize = MAX_CALLS_IN_FLIGHT - 1;

/// Blocks a batch whose run faulted (a fault a later run may not have) waits behind the other
/// batches for the calls they leave.
pub const BATCH_FAULT_MEMORY: u64 = 4;

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
	/// Where the agent publishes the outputs of the batches it runs, a URL requesters and jurors
	/// can read: each outputs document is written with `PUT {URL}/o-<16 hex>.json` and read by
	/// anyone with `GET` (the reference server's `--documents` store, or any store that accepts
	/// `PUT`). Without it the agent runs single tasks only, and must not hold the
	/// `BatchExecutor` role.
	#[arg(long, value_name = "URL", value_parser = valid_endpoint)]
	pub outputs_url: Option<String>,
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
			client: http_client()?,
		})
	}

	fn model_name(&self, model: &H256) -> Option<&str> {
		self.models.iter().find(|m| &m.id == model).map(|m| m.name.as_str())
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
		let max = self.max_response_bytes;
		match self.answer_once(request(), deadline, error_bodies, max).await {
			Err(Fault::Unreachable) if Instant::now() < deadline => {
				self.answer_once(request(), deadline, error_bodies, max).await
			},
			result => result,
		}
	}

	async fn answer_once(
		&self,
		request: hyper::Request<Full<Bytes>>,
		deadline: Instant,
		error_bodies: bool,
		max: usize,
	) -> Result<(u16, Vec<u8>), Fault> {
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
				let uri = fetchable_uri(&uri.0).ok_or(Fault::InputUnavailable)?;
				let bytes = self
					.fetch(uri, self.max_response_bytes, deadline)
					.await
					.map_err(|_| Fault::InputUnavailable)?;
				checked_input(bytes, hash)?
			},
			TaskInput::Batch { .. } => return Err(Fault::Batch),
		};
		let sampling = sampling_of(&task.params);
		let output = self.complete(model, &prompt, &sampling, deadline).await?;
		Ok(truncate_output(output, max_output_len))
	}

	/// The endpoint's output for `prompt` (not yet cut to the chain's bound): the request a
	/// single task of that prompt makes, as for each item of a batch.
	pub async fn complete(
		&self,
		model: &str,
		prompt: &str,
		sampling: &Sampling,
		deadline: Instant,
	) -> Result<Vec<u8>, Fault> {
		let (url, body) = completion_request(&self.base_url, self.api, model, prompt, sampling);
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
		completion_output(status, &body, model)
	}

	/// The body of `GET uri`, of at most `max` bytes, by `deadline`.
	pub async fn fetch(&self, uri: &str, max: usize, deadline: Instant) -> Result<Vec<u8>, Fault> {
		if uri.parse::<hyper::Uri>().is_err() {
			return Err(Fault::Unreachable);
		}
		let request = || {
			hyper::Request::get(uri)
				.body(Full::new(Bytes::new()))
				.unwrap_or_else(|_| hyper::Request::new(Full::new(Bytes::new())))
		};
		match self.answer_once(request(), deadline, false, max).await {
			Err(Fault::Unreachable) if Instant::now() < deadline => {
				self.answer_once(request(), deadline, false, max).await
			},
			result => result,
		}
		.and_then(
			|(status, body)| if status == 200 { Ok(body) } else { Err(Fault::Status(status)) },
		)
	}

	/// Writes `document` to `uri` with `PUT` (a batch's outputs document, in a store that
	/// accepts `PUT`, as the agent node's `--inference-outputs-url`); any 2xx is success.
	pub async fn publish(
		&self,
		uri: &str,
		document: Vec<u8>,
		deadline: Instant,
	) -> Result<(), Fault> {
		put(&self.client, uri, document, deadline).await
	}
}

/// How a task's (or a batch's every item's) output is sampled: its parameters.
fn sampling_of(params: &TaskParams) -> Sampling {
	Sampling {
		max_tokens: params.max_tokens,
		temperature_milli: params.temperature_milli,
		seed: params.seed,
	}
}

/// The HTTP(S) client of the endpoint and the document stores: http:// and https:// with the
/// system's root certificates.
fn http_client() -> Result<HttpClient<Https, Full<Bytes>>, CliError> {
	let connector = hyper_rustls::HttpsConnectorBuilder::new()
		.with_native_roots()
		.map_err(|e| CliError::Invalid(format!("cannot load the system's root certificates: {e}")))?
		.https_or_http()
		.enable_http1()
		.build();
	Ok(HttpClient::builder(TokioExecutor::new()).build(connector))
}

/// Writes `document` to `uri` with `PUT` by `deadline`; any 2xx is success.
async fn put(
	client: &HttpClient<Https, Full<Bytes>>,
	uri: &str,
	document: Vec<u8>,
	deadline: Instant,
) -> Result<(), Fault> {
	let request = hyper::Request::put(uri)
		.header(hyper::header::CONTENT_TYPE, "application/json")
		.body(Full::new(Bytes::from(document)))
		.map_err(|_| Fault::Unreachable)?;
	let respond = async { client.request(request).await.map_err(|_| Fault::Unreachable) };
	let response =
		tokio::time::timeout_at(deadline, respond).await.map_err(|_| Fault::Timeout)??;
	match response.status().as_u16() {
		200..=299 => Ok(()),
		status => Err(Fault::Status(status)),
	}
}

/// Writes `document` to `uri` with `PUT` within `timeout` (a requester's batch inputs, say).
pub async fn put_document(uri: &str, document: Vec<u8>, timeout: Duration) -> Result<(), String> {
	let client = http_client().map_err(|e| e.to_string())?;
	put(&client, uri, document, Instant::now() + timeout)
		.await
		.map_err(|fault| fault.to_string())
}

// ---------------------------------------------------------------------------------------------
// The state file.

/// A work record's key: the task, the agent, and the task's round (`reassignments`).
type WorkKey = (u64, [u8; 32], u32);
/// A vote record's key: the disputed task, the juror, the dispute's round, and for a dispute
/// over an item of a batch that item (two disputes over a batch's items follow each other, and
/// a vote of one is never taken for the other's).
type VoteKey = (u64, [u8; 32], u32, Option<u32>);

/// What the edge agent keeps across restarts (`state-2.scale`).
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

/// The state as edge agents wrote it before votes were keyed by their item (`state.scale`):
/// read once, and written again as a [`State`].
#[derive(Decode)]
struct StateWithoutItems {
	genesis: [u8; 32],
	work: BTreeMap<WorkKey, WorkRecord>,
	votes: BTreeMap<(u64, [u8; 32], u32), VoteRecord>,
	heartbeat_sent_at: Option<u64>,
	nonce: Option<(u64, u64)>,
}

impl From<StateWithoutItems> for State {
	fn from(old: StateWithoutItems) -> Self {
		Self {
			genesis: old.genesis,
			work: old.work,
			// Those votes were all of whole tasks: an edge agent did not vote on items.
			votes: old
				.votes
				.into_iter()
				.map(|((task, juror, round), vote)| ((task, juror, round, None), vote))
				.collect(),
			heartbeat_sent_at: old.heartbeat_sent_at,
			nonce: old.nonce,
		}
	}
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
		let path = dir.join("state-2.scale");
		let read = |path: &Path| match std::fs::read(path) {
			Ok(bytes) => Ok(Some(bytes)),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
			Err(e) => Err(fail("cannot read the state in", &e)),
		};
		let damaged = |e: codec::Error| fail("the state file is damaged in", &e);
		// Both files: this version wrote `state-2.scale` and an earlier one, run since, wrote
		// `state.scale` (this version removes it once it has written its own); neither is whole.
		let modified = |name: &str| std::fs::metadata(dir.join(name)).and_then(|m| m.modified());
		if let (Ok(new), Ok(old)) = (modified("state-2.scale"), modified("state.scale")) {
			if old > new {
				return Err(CliError::Invalid(format!(
					"{} holds state files of two versions, and the earlier version's (state.scale) \
					 is the newer: an earlier edge agent ran on it after this one. Its records of \
					 work since are in state.scale, those before in state-2.scale; move the one \
					 not to keep out of the directory",
					dir.display()
				)));
			}
		}
		let state = match read(&path)? {
			Some(bytes) => State::decode(&mut &bytes[..]).map_err(damaged)?,
			None => match read(&dir.join("state.scale"))? {
				Some(bytes) => StateWithoutItems::decode(&mut &bytes[..]).map_err(damaged)?.into(),
				None => State { genesis, ..Default::default() },
			},
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
			// The state in the format before, once written again in this one.
			match std::fs::remove_file(dir.join("state.scale")) {
				Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
				_ => {},
			}
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
	/// A batch's run, and the URI its outputs document is to be published at.
	Batch { key: WorkKey, outcome: BatchOutcome, uri: Vec<u8> },
	/// A batch's outputs document published, or why not.
	Published { key: WorkKey, result: Result<(), String> },
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
	/// The state directory, where batches' work is kept beside the state.
	state_dir: PathBuf,
	/// Where outputs documents are published (ending in `/`), if batches are run.
	outputs_url: Option<String>,
	log: Log,
	block_time_ms: u64,
	/// Tasks whose endpoint call is running, batches included.
	tasks_in_flight: BTreeSet<u64>,
	/// Batches being run.
	batches_in_flight: BTreeSet<u64>,
	/// Batches whose outputs document is being published, and those published (their reveal
	/// may go).
	publishing: BTreeSet<WorkKey>,
	published: BTreeSet<WorkKey>,
	/// Batches whose run stopped on a fault a later run may not have, and the block it did:
	/// started after the others while the fault is recent.
	batch_faults: BTreeMap<u64, u64>,
	/// Batches whose work is on disk but that the last scan of the agent's assignments did not
	/// find: removed if the next one does not either.
	batches_missing: BTreeSet<WorkKey>,
	/// Work records whose task the last scan of the agent's assignments did not find: forgotten
	/// if the next one does not either.
	work_missing: BTreeSet<WorkKey>,
	/// Batches waiting to be run at the head, found by [`Agent::tasks`]: the commit deadline,
	/// the assignment and the task.
	waiting_batches: Vec<(u64, WorkKey, TaskInfo)>,
	/// Disputed tasks being re-executed for a vote.
	votes_in_flight: BTreeSet<u64>,
	/// The duties of disputes over the agent's batches sent lately (an item shown, a node
	/// opened: see [`Agent::defence_due`]), and the blocks they were sent at.
	defences: BTreeMap<(u64, u8, u32, u32), u64>,
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
		state_dir: dir.clone(),
		outputs_url: options.outputs_url.as_ref().map(|url| format!("{url}/")),
		log,
		block_time_ms: slot,
		tasks_in_flight: BTreeSet::new(),
		batches_in_flight: BTreeSet::new(),
		publishing: BTreeSet::new(),
		published: BTreeSet::new(),
		batch_faults: BTreeMap::new(),
		waiting_batches: Vec::new(),
		batches_missing: BTreeSet::new(),
		work_missing: BTreeSet::new(),
		votes_in_flight: BTreeSet::new(),
		defences: BTreeMap::new(),
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
	/// The longest input, and so a batch's longest item (`MaxInputLen`).
	max_input_len: usize,
	/// The most items a batch may have (`MaxBatchItems`).
	max_batch_items: u32,
	/// The longest URI the chain keeps (`MaxUriLen`).
	max_uri_len: usize,
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
		let max_input_len = constants
			.entry(runtime::constants().inference().max_input_len())
			.map_err(CliError::rpc)?;
		let max_batch_items = constants
			.entry(runtime::constants().inference().max_batch_items())
			.map_err(CliError::rpc)?;
		let max_uri_len = constants
			.entry(runtime::constants().inference().max_uri_len())
			.map_err(CliError::rpc)?;
		Ok(Self {
			max_output_len: max_output_len as usize,
			max_input_len: max_input_len as usize,
			max_batch_items,
			max_uri_len: max_uri_len as usize,
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

	/// Warns when the agent holds the batch-executor role but the edge agent was given no
	/// outputs URL: it cannot run batches then, and a batch drawn to it would expire and cost it
	/// the missed commit's slash.
	async fn warn_of_batches(
		&self,
		client: &AtBlock,
		owner: &AccountId32,
		now: u64,
	) -> Result<(), CliError> {
		if self.outputs_url.is_some() {
			return Ok(());
		}
		let Some(info) = stored(client, runtime::storage().agents().agents(), (*owner,)).await?
		else {
			return Ok(());
		};
		if info.roles.0.iter().any(|role| matches!(role, Role::BatchExecutor)) {
			self.log.event(
				now,
				"warning",
				json!({ "message": "batch-executor role held without --outputs-url; batches are not run" }),
				format!(
					"warning: agent {owner} holds the batch-executor role, but this edge agent has \
					 no --outputs-url to publish batch outputs at, so it runs no batches: a batch \
					 drawn to it would expire and cost the missed commit's slash (give \
					 --outputs-url, or `agent set-roles` without batch-executor)"
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
		// Records of tasks no longer assigned to the agent are over, as is the work on disk of
		// batches no longer assigned (kept until then: a dispute may ask for any item); known
		// only when every assignment was seen.
		if ids.len() < MAX_TASKS_SCANNED {
			// A record (its salt with it) goes once two scans in a row miss its task, as its
			// batch's work does below: a short read must not cost a reveal.
			let missing: BTreeSet<WorkKey> = self
				.store
				.state
				.work
				.keys()
				.filter(|(task, who, _)| who == &agent.0 && !ids.contains(task))
				.copied()
				.collect();
			let gone = std::mem::replace(&mut self.work_missing, missing.clone());
			self.forget_work(|key| missing.contains(key) && gone.contains(key), false)?;
			// A batch's work goes once it is missing from two scans in a row: what it committed
			// to cannot be run again, and one short read must not cost it.
			let mut missing = BTreeSet::new();
			let entries = std::fs::read_dir(batch::batches_dir(&self.state_dir));
			for entry in entries.into_iter().flatten().flatten() {
				let name = entry.file_name();
				let Some(key) = name.to_str().and_then(batch::key_of_dir) else { continue };
				if key.1 == agent.0 && !ids.contains(&key.0) {
					if self.batches_missing.contains(&key) {
						BatchDir::remove(&self.state_dir, &key);
					} else {
						missing.insert(key);
					}
				}
			}
			self.batches_missing = missing;
		}
		let mut all = true;
		self.waiting_batches.clear();
		for id in ids {
			let result = self.task(client, agent, id, constants).await;
			all &= self.report(&format!("task {id}"), result);
		}
		// Batches waiting to run start the earliest commit deadline first, after single tasks
		// (started above), those whose last run faulted in the last few blocks after the
		// others: a batch whose items keep failing does not take a call before the others
		// each block.
		let now = self.head.1;
		self.batch_faults.retain(|_, at| now < at.saturating_add(BATCH_FAULT_MEMORY));
		let mut waiting = std::mem::take(&mut self.waiting_batches);
		waiting.sort_by_key(|(phase_ends, key, _)| {
			(self.batch_faults.contains_key(&key.0), *phase_ends, key.0)
		});
		for (phase_ends, key, task) in waiting {
			let result = self.start_batch(key, task, phase_ends, constants);
			all &= self.report(&format!("task {}", key.0), result);
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
		let (commitment, revealed) = (assignment.commitment, assignment.output);
		let key: WorkKey = (id, agent.0, task.reassignments);
		// Records of the task's earlier rounds are over.
		self.forget_work(|(t, who, round)| (*t, who) == (id, &agent.0) && *round != key.2, true)?;
		let record = self.store.state.work.get(&key).cloned();
		let phase_ends = u64::from(task.phase_ends);
		match (&task.status, commitment, revealed) {
			(TaskStatus::Assigned, None, _) => match record {
				None if matches!(task.input, TaskInput::Batch { .. }) => {
					self.waiting_batches.push((phase_ends, key, task))
				},
				None => self.start_task(key, task, phase_ends, constants)?,
				Some(work)
					if work.answer().is_some_and(|answer| {
						now >= answer.commit_sent_at.saturating_add(RESUBMIT_AFTER)
					}) =>
				{
					let Some(answer) = work.answer() else { return Ok(()) };
					let commitment = commitment_of(&answer.hash, &answer.salt, agent);
					self.store.state.work.insert(key, work.sent(now, None));
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
				Some(work)
					if work.answer().is_some_and(|answer| due(answer.reveal_sent_at, now)) =>
				{
					let Some(answer) = work.answer() else { return Ok(()) };
					if commitment_of(&answer.hash, &answer.salt, agent) != commitment {
						self.fail_task(
							key,
							"the commitment on chain is not this agent's; cannot reveal",
						)?;
						return Ok(());
					}
					// A batch's outputs, published now that every executor has committed (or
					// the commit phase is over), and before the reveal points at them: in the
					// background, the reveal going at a block after the document is stored.
					if let Some(uri) = &answer.uri {
						if !self.published.contains(&key) {
							self.publish_outputs(key, &task, answer.hash, uri.clone());
							return Ok(());
						}
					}
					self.store.state.work.insert(key, work.sent(answer.commit_sent_at, Some(now)));
					let resend = answer.reveal_sent_at.is_some();
					let output_hash = answer.hash;
					let call = runtime::tx().inference().reveal(
						id,
						output_hash,
						answer.salt,
						answer.output,
						answer.uri.clone(),
					);
					let uri = answer.uri.map(|uri| String::from_utf8_lossy(&uri).into_owned());
					self.send(
						&call,
						resend,
						"reveal",
						json!({ "task": id, "outputHash": format!("{output_hash:?}"), "uri": uri, "resend": resend }),
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
			(_, _, Some(root)) => {
				if matches!(
					record,
					Some(WorkRecord::Working { .. } | WorkRecord::BatchWorking { .. })
				) {
					self.store.state.work.insert(key, WorkRecord::Done);
					self.save()?;
					self.log.event(
						now,
						"revealed",
						json!({ "task": id }),
						format!("task {id}: reveal on chain"),
					);
				}
				// A batch's root, revealed: what a dispute over it asks of its executor.
				if matches!(task.input, TaskInput::Batch { .. }) {
					self.defend_batch(client, agent, key, &task, root, constants).await?;
				}
			},
			_ => {},
		}
		Ok(())
	}

	/// Removes the work records `which` selects, and with `batches` their batches' work on disk
	/// (else left to the scan of batches no longer assigned).
	fn forget_work(
		&mut self,
		which: impl Fn(&WorkKey) -> bool,
		batches: bool,
	) -> Result<(), CliError> {
		let forgotten: Vec<WorkKey> =
			self.store.state.work.keys().filter(|key| which(key)).copied().collect();
		if forgotten.is_empty() {
			return Ok(());
		}
		for key in &forgotten {
			self.store.state.work.remove(key);
			self.published.remove(key);
		}
		self.save()?;
		if batches {
			for key in &forgotten {
				BatchDir::remove(&self.state_dir, key);
			}
		}
		Ok(())
	}

	/// What a batch's outputs depend on besides its assignment (see [`batch::binding`]); `None`
	/// when the agent serves no endpoint model for the batch's model.
	fn batch_binding(&self, key: &WorkKey, task: &TaskInfo, constants: &Constants) -> Option<H256> {
		let model_name = self.endpoint.model_name(&task.model)?;
		let TaskInput::Batch { root, uri, items, .. } = &task.input else { return None };
		let p = &task.params;
		let what = (task.model.0, p.max_tokens, p.temperature_milli, p.seed, root.0, &uri.0, items)
			.encode();
		Some(batch::binding(
			key,
			&what,
			&format!("{}:{:?}", self.endpoint.base_url, self.endpoint.api),
			model_name,
			constants.max_output_len as u32,
		))
	}

	/// Starts running a batch in its commit phase, in the background, from the first item its
	/// work on disk lacks.
	fn start_batch(
		&mut self,
		key: WorkKey,
		task: TaskInfo,
		phase_ends: u64,
		constants: &Constants,
	) -> Result<(), CliError> {
		let now = self.head.1;
		let TaskInput::Batch { root, uri, items, .. } = &task.input else { return Ok(()) };
		if self.tasks_in_flight.contains(&key.0)
			|| self.tasks_in_flight.len() >= MAX_CALLS_IN_FLIGHT
			|| self.batches_in_flight.len() >= MAX_BATCHES_IN_FLIGHT
		{
			return Ok(());
		}
		let Some(outputs_url) = &self.outputs_url else {
			return self.fail_task(
				key,
				"this agent publishes no outputs (no --outputs-url), so it runs no batch",
			);
		};
		let outputs_uri = format!("{outputs_url}{}", batch::document_name(&key));
		if outputs_uri.len() > constants.max_uri_len {
			return self.fail_task(key, "the outputs URL is too long for the chain's MaxUriLen");
		}
		let (Some(model_name), Some(binding)) = (
			self.endpoint.model_name(&task.model).map(String::from),
			self.batch_binding(&key, &task, constants),
		) else {
			return self.fail_task(key, &Fault::UnknownModel.to_string());
		};
		let budget = call_budget_ms(phase_ends, now, self.block_time_ms);
		if budget == 0 {
			return self.fail_task(key, &Fault::TooLate.to_string());
		}
		let dir = BatchDir::of(&self.state_dir, &key);
		let done = dir.kept_outputs().map_or(0, |outputs| outputs.len());
		let job = BatchJob {
			dir,
			binding,
			model_name,
			sampling: sampling_of(&task.params),
			root: *root,
			uri: uri.0.clone(),
			items: *items,
			max_item_len: constants.max_input_len,
			max_document: batch::max_inputs_document(
				constants.max_batch_items,
				constants.max_input_len as u32,
			),
			max_output_len: constants.max_output_len,
			deadline: Instant::now() + Duration::from_millis(budget),
			now,
			// The block the commit phase started in, when its deadline was not lengthened.
			first_block: (!task.extended)
				.then(|| phase_ends.saturating_sub(u64::from(task.commit_period))),
		};
		self.tasks_in_flight.insert(key.0);
		self.batches_in_flight.insert(key.0);
		self.log.event(
			now,
			"executingBatch",
			json!({ "task": key.0, "items": items, "done": done, "budgetMs": budget }),
			format!(
				"task {}: running a batch of {items} items from item {done} ({budget} ms left)",
				key.0
			),
		);
		let endpoint = self.endpoint.clone();
		let finished = self.finished.clone();
		tokio::spawn(async move {
			let outcome = job.run(&endpoint).await;
			let _ = finished.send(Finished::Batch { key, outcome, uri: outputs_uri.into_bytes() });
		});
		Ok(())
	}

	/// Starts publishing the outputs document of the batch of assignment `key`, whose outputs
	/// root is `root`, at `uri`, from the work kept, in the background (unless it is being
	/// published already), within a block.
	fn publish_outputs(&mut self, key: WorkKey, task: &TaskInfo, root: H256, uri: Vec<u8>) {
		let TaskInput::Batch { items, .. } = task.input else { return };
		if !self.publishing.insert(key) {
			return;
		}
		let dir = BatchDir::of(&self.state_dir, &key);
		let endpoint = self.endpoint.clone();
		let finished = self.finished.clone();
		let time = self.endpoint.timeout.min(Duration::from_millis(self.block_time_ms));
		tokio::spawn(async move {
			let published = async {
				let document = dir.outputs_document(items, &root).ok_or(
					"the outputs kept are not those of the root committed to (lost, or changed)",
				)?;
				let uri = std::str::from_utf8(&uri).map_err(|_| "the outputs URI is not text")?;
				endpoint
					.publish(uri, document, Instant::now() + time)
					.await
					.map_err(|fault| fault.to_string())
			};
			let result = published.await;
			let _ = finished.send(Finished::Published { key, result });
		});
	}

	/// What a dispute over the revealed outputs root `root` of the batch of assignment `key`
	/// asks of its executor, from the work it kept: the disputed item's input and output hash
	/// with their proofs, while the dispute is showing; its node of a bisection's current step,
	/// opened, while it bisects. Each sent again after [`RESUBMIT_AFTER`] blocks while missing.
	async fn defend_batch(
		&mut self,
		client: &AtBlock,
		agent: &AccountId32,
		key: WorkKey,
		task: &TaskInfo,
		root: H256,
		constants: &Constants,
	) -> Result<(), CliError> {
		let now = self.head.1;
		let id = key.0;
		let TaskInput::Batch { root: inputs_root, items, .. } = &task.input else { return Ok(()) };
		let Some(dispute) =
			stored(client, runtime::storage().challenges().disputes(), (id,)).await?
		else {
			return Ok(());
		};
		if now >= u64::from(dispute.phase_ends)
			|| !dispute.revealed.0.iter().any(|(e, _)| e == agent)
		{
			return Ok(());
		}
		// The work kept, read as it is whatever the endpoint has become since the commitment.
		let dir = BatchDir::of(&self.state_dir, &key);
		match dispute.phase {
			DisputePhase::Showing => {
				let Some(shown) =
					stored(client, runtime::storage().challenges().item_disputes(), (id,)).await?
				else {
					return Ok(());
				};
				let show_output = shown.output.is_none() && shown.outputs_root == root;
				if shown.input.is_some() && !show_output {
					return Ok(());
				}
				let Some(resend) = self.defence_due((id, 0, shown.item, 0), now) else {
					return Ok(());
				};
				let Some(batch::ItemShowing { input, input_proof, output, output_proof }) = dir
					.item_showing(inputs_root, *items, constants.max_input_len, &root, shown.item)
				else {
					self.log.event(
						now,
						"warning",
						json!({ "task": id, "message": "no work kept of the disputed item" }),
						format!(
							"dispute {id}: this agent keeps no work of item {} to show",
							shown.item
						),
					);
					return Ok(());
				};
				let item = shown.item;
				if shown.input.is_none() {
					let call = runtime::tx().challenges().show_item_input(id, input, input_proof);
					self.send(
						&call,
						resend,
						"showItemInput",
						json!({ "task": id, "item": item }),
						format!("dispute {id}: item {item}'s input shown"),
					)
					.await;
				}
				if show_output {
					let call =
						runtime::tx().challenges().show_item_output(id, output, output_proof);
					self.send(
						&call,
						resend,
						"showItemOutput",
						json!({ "task": id, "item": item, "output": format!("{output:?}") }),
						format!("dispute {id}: item {item}'s output hash shown ({output:?})"),
					)
					.await;
				}
			},
			DisputePhase::Bisecting => {
				let Some(bisection) =
					stored(client, runtime::storage().challenges().bisections(), (id,)).await?
				else {
					return Ok(());
				};
				let Some(side) = bisection.sides.iter().find(|side| &side.executor == agent) else {
					return Ok(());
				};
				let (level, position) = (bisection.level, bisection.position);
				if side.opening.is_some() {
					return Ok(());
				}
				let Some(resend) = self.defence_due((id, 1, level, position), now) else {
					return Ok(());
				};
				let Some((left, right)) = dir.opening(*items, &side.root, level, position) else {
					self.log.event(
						now,
						"warning",
						json!({ "task": id, "message": "no work kept of the root bisected" }),
						format!("dispute {id}: this agent keeps no work of the root it bisects"),
					);
					return Ok(());
				};
				let call = runtime::tx().challenges().open_node(id, left, right);
				self.send(
					&call,
					resend,
					"openNode",
					json!({ "task": id, "level": level, "position": position }),
					format!("dispute {id}: node {position} of level {level} opened"),
				)
				.await;
			},
			_ => {},
		}
		Ok(())
	}

	/// Whether a duty of a dispute's executor (`(task, what, a, b)`: an item shown, a node
	/// opened) is due at block `now`, and if so notes it sent then: once, and again after
	/// [`RESUBMIT_AFTER`] blocks while the chain lacks it. `Some(resend)`: due, and whether it
	/// was sent before (a resend goes at the lowest nonce the chain has not used, so that a copy
	/// the chain no longer wants, say an item the other executor showed first, leaves no gap
	/// behind it).
	fn defence_due(&mut self, step: (u64, u8, u32, u32), now: u64) -> Option<bool> {
		let sent = self.defences.get(&step).copied();
		if sent.is_some_and(|at| now < at.saturating_add(RESUBMIT_AFTER)) {
			return None;
		}
		// Steps sent long ago are kept a while, to be known as resends.
		self.defences.retain(|_, at| now < at.saturating_add(8 * RESUBMIT_AFTER));
		self.defences.insert(step, now);
		Some(sent.is_some())
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

	/// Records the answer `work` makes from a fresh salt and sends its commitment, if assignment
	/// `key` is still in its commit phase with this agent's commitment to come (the chain moved
	/// on while the endpoint worked).
	async fn commit_work(
		&mut self,
		key: WorkKey,
		work: impl FnOnce([u8; 32]) -> WorkRecord,
		fields: Value,
		text: String,
	) -> Result<(), CliError> {
		let now = self.head.1;
		let client = self.chain.at(self.head.0).await?;
		let task = stored(&client, runtime::storage().inference().tasks(), (key.0,)).await?;
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
		let work = work(random_salt()?);
		let Some(answer) = work.answer() else { return Ok(()) };
		let commitment = commitment_of(&answer.hash, &answer.salt, &AccountId32(key.1));
		// Recorded, and saved by `send` before the commitment leaves: after a crash the agent
		// reveals this answer, and never commits to another.
		self.store.state.work.insert(key, work);
		let call = runtime::tx().inference().commit(key.0, commitment);
		self.send(&call, false, "commit", fields, text).await;
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
				let unavailable = output.is_none();
				let bytes = output.as_ref().map_or(0, |o| o.len());
				let text = if unavailable {
					format!("task {}: the input is unavailable; committing to that", key.0)
				} else {
					format!("task {}: result ready ({bytes} bytes), commitment sent", key.0)
				};
				self.commit_work(
					key,
					|salt| WorkRecord::Working {
						output,
						salt,
						commit_sent_at: now,
						reveal_sent_at: None,
					},
					json!({ "task": key.0, "bytes": bytes, "inputUnavailable": unavailable }),
					text,
				)
				.await?;
			},
			Finished::Batch { key, outcome, uri } => {
				self.tasks_in_flight.remove(&key.0);
				self.batches_in_flight.remove(&key.0);
				if self.store.state.work.contains_key(&key) {
					return Ok(());
				}
				match outcome {
					BatchOutcome::Root(root) => {
						self.commit_work(
							key,
							|salt| WorkRecord::BatchWorking {
								root,
								uri,
								salt,
								commit_sent_at: now,
								reveal_sent_at: None,
							},
							json!({ "task": key.0, "outputsRoot": format!("{root:?}") }),
							format!(
								"task {}: every item done (outputs root {root:?}), commitment sent",
								key.0
							),
						)
						.await?;
					},
					BatchOutcome::InputUnavailable(fault) => {
						self.commit_work(
							key,
							|salt| WorkRecord::Working {
								output: None,
								salt,
								commit_sent_at: now,
								reveal_sent_at: None,
							},
							json!({ "task": key.0, "inputUnavailable": true }),
							format!(
								"task {}: the inputs document: {fault}; committing that the input \
								 is unavailable",
								key.0
							),
						)
						.await?;
					},
					// Started again, from the first item not stored, by a later block while the
					// commit phase lasts.
					BatchOutcome::Again(fault) => {
						self.batch_faults.insert(key.0, now);
						self.log.event(
							now,
							"retrying",
							json!({ "task": key.0, "reason": fault.to_string() }),
							format!("task {}: {fault}; going on at a later block", key.0),
						)
					},
					BatchOutcome::GiveUp(why) => return self.fail_task(key, &why),
				}
			},
			Finished::Published { key, result } => {
				self.publishing.remove(&key);
				match result {
					Ok(()) => {
						self.published.insert(key);
						self.log.event(
							now,
							"published",
							json!({ "task": key.0 }),
							format!("task {}: outputs document published; revealing", key.0),
						);
					},
					Err(why) => self.log.event(
						now,
						"publishFailed",
						json!({ "task": key.0, "reason": why }),
						format!(
							"task {}: publishing the outputs failed: {why}; trying again at the \
							 next block",
							key.0
						),
					),
				}
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
				// A dispute over an item of a batch: the item, and its input once shown.
				let item =
					stored(client, runtime::storage().challenges().item_disputes(), (*task,))
						.await?
						.map(|shown| (shown.item, shown.input.map(|input| input.0)));
				seats.push((*task, dispute, item));
			}
		}
		// Records of seats that are over (the duty left, or the dispute moved to another round
		// or another item).
		let before = self.store.state.votes.len();
		self.store.state.votes.retain(|(task, who, round, item), _| {
			who != &juror.0
				|| seats.iter().any(|(t, d, i)| {
					t == task && d.round == *round && i.as_ref().map(|(item, _)| *item) == *item
				})
		});
		if self.store.state.votes.len() != before {
			self.save()?;
		}
		let mut all = true;
		for (task, dispute, item) in seats {
			let result = self.seat(client, juror, task, dispute, item).await;
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
		item: Option<(u32, Option<Vec<u8>>)>,
	) -> Result<(), CliError> {
		let now = self.head.1;
		let Some(seat) = dispute.jury.0.iter().find(|seat| &seat.juror == juror) else {
			return Ok(());
		};
		let round = dispute.round;
		let key: VoteKey = (task, juror.0, round, item.as_ref().map(|(item, _)| *item));
		let record = self.store.state.votes.get(&key).cloned();
		match (&dispute.phase, seat.commitment, seat.vote) {
			(DisputePhase::Committing, None, _) => match record {
				None => {
					let input = item.and_then(|(_, input)| input);
					self.start_vote(key, &dispute, input, client).await?
				},
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

	/// Starts re-executing a disputed task, in the background, to vote on it: for a dispute over
	/// an item of a batch, that item (`item_input`, shown on chain before the jury was drawn),
	/// the vote being its output's hash.
	async fn start_vote(
		&mut self,
		key: VoteKey,
		dispute: &Dispute,
		item_input: Option<Vec<u8>>,
		client: &AtBlock,
	) -> Result<(), CliError> {
		let now = self.head.1;
		if self.votes_in_flight.contains(&key.0)
			|| self.votes_in_flight.len() >= MAX_VOTES_IN_FLIGHT
		{
			return Ok(());
		}
		let exact_match = matches!(dispute.mode, VerificationMode::ExactMatch);
		if key.3.is_none() && !exact_match && dispute.result.is_none() {
			return self.fail_vote(key, "a jury-mode dispute without a result cannot be voted on");
		}
		if key.3.is_some() && item_input.is_none() {
			return self.fail_vote(key, "the disputed item's input is not shown");
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
		let item_call = match item_input {
			Some(input) => {
				let Some(model) = self.endpoint.model_name(&info.model).map(String::from) else {
					return self.fail_vote(
						key,
						&format!("{}; this juror cannot vote", Fault::UnknownModel),
					);
				};
				let sampling = sampling_of(&info.params);
				Some((input, model, sampling))
			},
			None => None,
		};
		self.votes_in_flight.insert(key.0);
		self.log.event(
			now,
			"reexecuting",
			json!({ "task": task, "round": key.2, "item": key.3, "budgetMs": budget }),
			match key.3 {
				Some(item) => format!(
					"dispute {task}: re-executing item {item} of the batch to vote ({budget} ms left)"
				),
				None => format!("dispute {task}: re-executing the task to vote ({budget} ms left)"),
			},
		);
		let endpoint = self.endpoint.clone();
		let finished = self.finished.clone();
		let deadline = Instant::now() + Duration::from_millis(budget);
		// A dispute over an item of a batch: the vote is the hash of that item's output.
		if let Some((input, model, sampling)) = item_call {
			tokio::spawn(async move {
				let output = match String::from_utf8(input) {
					Ok(prompt) => endpoint.complete(&model, &prompt, &sampling, deadline).await,
					Err(_) => Err(Fault::InputNotText),
				};
				let vote = match output {
					Ok(output) => {
						Ok(exact_match_vote(&Some(truncate_output(output, max_output_len))))
					},
					Err(fault) if calls_again(&fault, now, first_block) => {
						Err((fault.to_string(), true))
					},
					Err(fault) => Err((format!("{fault}; this juror cannot vote"), false)),
				};
				let _ = finished.send(Finished::Vote { key, vote });
			});
			return Ok(());
		}
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
			outputs_url: None,
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

	#[test]
	fn a_state_written_before_votes_were_keyed_by_item_is_read_and_rewritten() {
		#[derive(Encode)]
		struct Before {
			genesis: [u8; 32],
			work: BTreeMap<WorkKey, WorkRecord>,
			votes: BTreeMap<(u64, [u8; 32], u32), VoteRecord>,
			heartbeat_sent_at: Option<u64>,
			nonce: Option<(u64, u64)>,
		}
		let dir = std::env::temp_dir().join(format!("agentchain-edge-v1-{}", std::process::id()));
		let _ = std::fs::remove_dir_all(&dir);
		std::fs::create_dir_all(&dir).unwrap();
		let vote = VoteRecord::Voted {
			vote: H256([4; 32]),
			salt: [5; 32],
			commit_sent_at: 6,
			reveal_sent_at: None,
		};
		let before = Before {
			genesis: [1; 32],
			work: BTreeMap::new(),
			votes: [((7, [2; 32], 1), vote.clone())].into(),
			heartbeat_sent_at: Some(3),
			nonce: Some((9, 8)),
		};
		std::fs::write(dir.join("state.scale"), before.encode()).unwrap();
		let store = Store::open(&dir, [1; 32]).unwrap();
		assert_eq!(store.state.votes.get(&(7, [2; 32], 1, None)), Some(&vote));
		assert_eq!((store.state.heartbeat_sent_at, store.state.nonce), (Some(3), Some((9, 8))));
		store.save().unwrap();
		assert!(!dir.join("state.scale").exists());
		drop(store);
		let store = Store::open(&dir, [1; 32]).unwrap();
		assert_eq!(store.state.votes.len(), 1);
		drop(store);
		// An earlier version run on the directory since wrote its own file, newer: which records
		// to keep is the operator's call, never a guess.
		std::fs::write(dir.join("state.scale"), before.encode()).unwrap();
		let later = std::time::SystemTime::now() + Duration::from_secs(60);
		std::fs::File::options()
			.write(true)
			.open(dir.join("state.scale"))
			.unwrap()
			.set_modified(later)
			.unwrap();
		assert!(
			matches!(Store::open(&dir, [1; 32]), Err(CliError::Invalid(m)) if m.contains("two versions"))
		);
		let _ = std::fs::remove_dir_all(&dir);
	}
}
