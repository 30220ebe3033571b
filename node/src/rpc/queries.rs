//! `agents_*`, `inference_*` and `challenges_*`: the chain's own JSON-RPC queries, served from the runtime APIs of
//! `agentchain_primitives::api` at the best block (or the block given as `at`).
//!
//! Results are typed JSON (camelCase fields, balances as decimal strings, accounts in SS58, hashes
//! in hex). Errors: an unknown agent, task or dispute is error [`UNKNOWN_AGENT`], [`UNKNOWN_TASK`]
//! or [`UNKNOWN_DISPUTE`]; a
//! parameter out of range is the standard invalid-params error (-32602), as is a malformed one;
//! a failing runtime call is [`RUNTIME_ERROR`].

use std::{marker::PhantomData, sync::Arc};

use agentchain_primitives::{
	agents::Role,
	api::{
		AgentView, AgentsApi, ChallengesApi, DisputeView, DutiesView, InferenceApi, TaskPage,
		TaskView, MAX_TASKS_PER_PAGE,
	},
	inference::TaskId,
	AccountId, Hash, ModelId,
};
use jsonrpsee::{
	core::RpcResult,
	proc_macros::rpc,
	types::{error::INVALID_PARAMS_CODE, ErrorObjectOwned},
};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_runtime::traits::Block as BlockT;

/// Error code: the runtime API call failed (for example at a block whose runtime lacks it).
pub const RUNTIME_ERROR: i32 = 4000;
/// Error code: the account is neither an agent's owner nor an operator key.
pub const UNKNOWN_AGENT: i32 = 4001;
/// Error code: no task has this id (never submitted, or pruned after its retention period).
pub const UNKNOWN_TASK: i32 = 4002;

/// Error code: no dispute is open over this task.
pub const UNKNOWN_DISPUTE: i32 = 4003;

/// Page size of `inference_tasksFor` when none is given.
pub const DEFAULT_PAGE: u32 = 16;

/// The answer of `agents_serving`: an object, so that clients decoding JSON objects (such as
/// polkadot.js's `Json` type) read the list as a list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServingAgents {
	/// The model asked about.
	pub model: ModelId,
	/// The role asked about.
	pub role: Role,
	/// The agents that can be selected now, at most 64.
	pub agents: Vec<AgentView<AccountId>>,
}

/// Queries of the agent registry.
#[rpc(server, namespace = "agents")]
pub trait AgentsQueries {
	/// The agent owned by `who`, or whose operator key `who` is.
	#[method(name = "agent")]
	fn agent(&self, who: AccountId, at: Option<Hash>) -> RpcResult<AgentView<AccountId>>;

	/// The agents that can be selected now to serve `model` as `role` (`Executor`, the default,
	/// or `Verifier`).
	#[method(name = "serving")]
	fn serving(
		&self,
		model: ModelId,
		role: Option<Role>,
		at: Option<Hash>,
	) -> RpcResult<ServingAgents>;
}

/// Queries of the inference-task market.
#[rpc(server, namespace = "inference")]
pub trait InferenceQueries {
	/// A task, with its assignments and revealed outputs.
	#[method(name = "task")]
	fn task(&self, id: TaskId, at: Option<Hash>) -> RpcResult<TaskView<AccountId>>;

	/// A page of the open tasks assigned to `executor` (an agent's owner account, or its
	/// operator key): `limit` tasks (1 to 64, default 16) after `startAfter`, the previous
	/// page's `next`.
	#[method(name = "tasksFor")]
	fn tasks_for(
		&self,
		executor: AccountId,
		start_after: Option<TaskId>,
		limit: Option<u32>,
		at: Option<Hash>,
	) -> RpcResult<TaskPage<AccountId>>;
}

/// Queries of the challenge games.
#[rpc(server, namespace = "challenges")]
pub trait ChallengesQueries {
	/// The open dispute over `task`: its kind, round, phase, jurors and bonds.
	#[method(name = "dispute")]
	fn dispute(&self, task: TaskId, at: Option<Hash>) -> RpcResult<DisputeView<AccountId>>;

	/// The disputes the agent of `who` (owner account or operator key) sits on as a juror.
	#[method(name = "duties")]
	fn duties(&self, who: AccountId, at: Option<Hash>) -> RpcResult<DutiesView<AccountId>>;
}

/// Serves the query namespaces from a client.
pub struct Queries<C, Block> {
	client: Arc<C>,
	_block: PhantomData<Block>,
}

impl<C, Block> Queries<C, Block> {
	/// Queries answered by `client`.
	pub fn new(client: Arc<C>) -> Self {
		Self { client, _block: PhantomData }
	}
}

fn runtime_error(error: impl std::fmt::Display) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(RUNTIME_ERROR, format!("runtime API call failed: {error}"), None::<()>)
}

impl<C, Block> Queries<C, Block>
where
	Block: BlockT<Hash = Hash>,
	C: HeaderBackend<Block>,
{
	fn at(&self, at: Option<Hash>) -> Hash {
		at.unwrap_or_else(|| self.client.info().best_hash)
	}
}

impl<C, Block> AgentsQueriesServer for Queries<C, Block>
where
	Block: BlockT<Hash = Hash>,
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: AgentsApi<Block, AccountId>,
{
	fn agent(&self, who: AccountId, at: Option<Hash>) -> RpcResult<AgentView<AccountId>> {
		let at = self.at(at);
		self.client
			.runtime_api()
			.agent(at, who.clone())
			.map_err(runtime_error)?
			.ok_or_else(|| {
				ErrorObjectOwned::owned(
					UNKNOWN_AGENT,
					format!("{who} is neither an agent's owner nor an operator key"),
					None::<()>,
				)
			})
	}

	fn serving(
		&self,
		model: ModelId,
		role: Option<Role>,
		at: Option<Hash>,
	) -> RpcResult<ServingAgents> {
		let role = role.unwrap_or(Role::Executor);
		if !role.is_model_specific() {
			return Err(ErrorObjectOwned::owned(
				INVALID_PARAMS_CODE,
				format!("role {role:?} is not selected per model: use Executor or Verifier"),
				None::<()>,
			));
		}
		let at = self.at(at);
		let agents = self
			.client
			.runtime_api()
			.agents_serving(at, model, role)
			.map_err(runtime_error)?;
		Ok(ServingAgents { model, role, agents })
	}
}

impl<C, Block> InferenceQueriesServer for Queries<C, Block>
where
	Block: BlockT<Hash = Hash>,
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: InferenceApi<Block, AccountId> + AgentsApi<Block, AccountId>,
{
	fn task(&self, id: TaskId, at: Option<Hash>) -> RpcResult<TaskView<AccountId>> {
		let at = self.at(at);
		self.client.runtime_api().task(at, id).map_err(runtime_error)?.ok_or_else(|| {
			ErrorObjectOwned::owned(
				UNKNOWN_TASK,
				format!("no task {id}: never submitted, or pruned"),
				None::<()>,
			)
		})
	}

	fn tasks_for(
		&self,
		executor: AccountId,
		start_after: Option<TaskId>,
		limit: Option<u32>,
		at: Option<Hash>,
	) -> RpcResult<TaskPage<AccountId>> {
		let limit = limit.unwrap_or(DEFAULT_PAGE);
		if limit == 0 || limit > MAX_TASKS_PER_PAGE {
			return Err(ErrorObjectOwned::owned(
				INVALID_PARAMS_CODE,
				format!("limit must be between 1 and {MAX_TASKS_PER_PAGE}, not {limit}"),
				None::<()>,
			));
		}
		let at = self.at(at);
		let api = self.client.runtime_api();
		// An operator key stands for its agent.
		let executor = api
			.agent(at, executor.clone())
			.map_err(runtime_error)?
			.map_or(executor, |agent| agent.owner);
		api.tasks_for(at, executor, start_after, limit).map_err(runtime_error)
	}
}

impl<C, Block> ChallengesQueriesServer for Queries<C, Block>
where
	Block: BlockT<Hash = Hash>,
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: ChallengesApi<Block, AccountId>,
{
	fn dispute(&self, task: TaskId, at: Option<Hash>) -> RpcResult<DisputeView<AccountId>> {
		let at = self.at(at);
		self.client
			.runtime_api()
			.dispute(at, task)
			.map_err(runtime_error)?
			.ok_or_else(|| {
				ErrorObjectOwned::owned(
					UNKNOWN_DISPUTE,
					format!("no dispute is open over task {task}"),
					None::<()>,
				)
			})
	}

	fn duties(&self, who: AccountId, at: Option<Hash>) -> RpcResult<DutiesView<AccountId>> {
		let at = self.at(at);
		self.client
			.runtime_api()
			.duties(at, who.clone())
			.map_err(runtime_error)?
			.ok_or_else(|| {
				ErrorObjectOwned::owned(
					UNKNOWN_AGENT,
					format!("{who} is neither an agent's owner nor an operator key"),
					None::<()>,
				)
			})
	}
}
