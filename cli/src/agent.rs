//! `agentchain agent`: an agent's whole life, from registration to withdrawal of its stake.

use crate::{
	chain::{
		runtime::{
			self,
			runtime_types::agentchain_primitives::{
				agents::{AgentStatus, Role},
				api::AgentView,
			},
		},
		stored, Chain, Included,
	},
	keys::keypair,
	output::{Progress, Report},
	units::{format_amount, hex32, model_id},
	CliError,
};
use serde_json::{json, Value};
use subxt::utils::{AccountId32, MultiAddress, H256};

/// The roles an agent can take, as the command line names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
	/// Runs inference tasks for its models.
	Executor,
	/// Sits on juries: re-executes disputed tasks and votes.
	Verifier,
	/// Attests the quality of registered datasets.
	Curator,
	/// Runs batches for its models: its node (`--inference-outputs-url`) or edge agent
	/// (`agent run --outputs-url`) publishes each batch's outputs.
	BatchExecutor,
}

impl From<RoleArg> for Role {
	fn from(role: RoleArg) -> Self {
		match role {
			RoleArg::Executor => Role::Executor,
			RoleArg::Verifier => Role::Verifier,
			RoleArg::Curator => Role::Curator,
			RoleArg::BatchExecutor => Role::BatchExecutor,
		}
	}
}

pub fn role_name(role: &Role) -> &'static str {
	match role {
		Role::Executor => "executor",
		Role::Verifier => "verifier",
		Role::Curator => "curator",
		Role::BatchExecutor => "batch-executor",
	}
}

pub fn status_name(status: &AgentStatus) -> &'static str {
	match status {
		AgentStatus::Active => "active",
		AgentStatus::Paused => "paused",
		AgentStatus::Leaving => "leaving",
	}
}

/// What `agent register` needs.
#[derive(clap::Args, Debug)]
pub struct Registration {
	/// A display name.
	#[arg(long)]
	pub name: String,
	/// A model it serves, by name (hashed with blake2-256 as the chain expects) or 0x id;
	/// repeat for several.
	#[arg(long = "model", required = true, value_parser = crate::units::valid_model)]
	pub models: Vec<String>,
	/// A role it takes; repeat for several.
	#[arg(long = "role", value_enum, required = true)]
	pub roles: Vec<RoleArg>,
	/// The stake to hold, in AGC (e.g. 1000 or 0.5).
	#[arg(long, value_parser = crate::units::parse_amount)]
	pub stake: u128,
	/// Where its inference endpoint can be reached (informational).
	#[arg(long, default_value = "")]
	pub endpoint: String,
	/// The version of its software (informational).
	#[arg(long = "agent-version", default_value = "")]
	pub version: String,
}

/// One agent, as `agentsApi.agent` answers.
pub fn agent_json(view: &AgentView<AccountId32>) -> Value {
	json!({
		"owner": view.owner.to_string(),
		"operator": view.operator.as_ref().map(|o| o.to_string()),
		"name": view.name,
		"endpoint": view.endpoint,
		"version": view.version,
		"models": view.models.iter().map(hex32).collect::<Vec<_>>(),
		"roles": view.roles.iter().map(role_name).collect::<Vec<_>>(),
		"stake": view.stake.to_string(),
		"unbonding": view.unbonding.to_string(),
		"collateral": view.collateral.to_string(),
		"status": status_name(&view.status),
		"selectable": view.selectable,
		"registeredAt": view.registered_at,
		"lastSeen": view.last_seen,
		"openWork": view.open_work,
		"batchBlocks": view.batch_blocks,
		"batchSpeed": view.batch_speed,
		"reputation": {
			"completed": view.reputation.completed,
			"challenged": view.reputation.challenged,
			"challengesLost": view.reputation.challenges_lost,
			"auditsPassed": view.reputation.audits_passed,
			"deadlinesMissed": view.reputation.deadlines_missed,
		},
	})
}

fn agent_text(view: &AgentView<AccountId32>) -> String {
	let roles: Vec<_> = view.roles.iter().map(role_name).collect();
	let models: Vec<_> = view.models.iter().map(hex32).collect();
	let r = &view.reputation;
	format!(
		"agent {} ({})\n  owner:       {}\n  operator:    {}\n  status:      {}{}\n  roles:       {}\n  models:      {}\n  stake:       {} (unbonding {}, collateral {})\n  endpoint:    {}\n  version:     {}\n  registered:  block #{}, last seen #{}; open work {}\n  batches:     {} blocks of work open, speed {}\n  reputation:  {} completed, {} challenged, {} challenges lost, {} audits passed, {} deadlines missed",
		view.name,
		view.owner,
		view.owner,
		view.operator.as_ref().map(|o| o.to_string()).unwrap_or_else(|| "none".into()),
		status_name(&view.status),
		if view.selectable { " (selectable)" } else { " (not selectable)" },
		roles.join(", "),
		models.join(", "),
		format_amount(view.stake),
		format_amount(view.unbonding),
		format_amount(view.collateral),
		view.endpoint,
		view.version,
		view.registered_at,
		view.last_seen,
		view.open_work,
		view.batch_blocks,
		view.batch_speed,
		r.completed,
		r.challenged,
		r.challenges_lost,
		r.audits_passed,
		r.deadlines_missed,
	)
}

pub async fn fetch(
	chain: &Chain,
	who: &AccountId32,
) -> Result<Option<AgentView<AccountId32>>, CliError> {
	chain.query(runtime::runtime_apis().agents_api().agent(who.clone())).await
}

pub async fn show(chain: &Chain, who: AccountId32) -> Result<Report, CliError> {
	let view = fetch(chain, &who)
		.await?
		.ok_or_else(|| CliError::NotFound(format!("{who} owns no agent")))?;
	Ok(Report::new(agent_text(&view), agent_json(&view)))
}

pub async fn list(chain: &Chain, model: &str, role: RoleArg) -> Result<Report, CliError> {
	let id = model_id(model)?;
	let views = chain
		.query(runtime::runtime_apis().agents_api().agents_serving(id, role.into()))
		.await?;
	let mut text = format!("{} selectable {}s of {model}:\n", views.len(), role_name(&role.into()));
	for view in &views {
		text.push_str(&format!(
			"  {}  {}  stake {}  {} completed\n",
			view.owner,
			view.name,
			format_amount(view.stake),
			view.reputation.completed
		));
	}
	Ok(Report::new(
		text,
		json!({ "model": hex32(&id), "agents": views.iter().map(agent_json).collect::<Vec<_>>() }),
	))
}

pub async fn register(
	chain: &Chain,
	suri: &str,
	registration: Registration,
	progress: &Progress,
) -> Result<Report, CliError> {
	let signer = keypair(suri)?;
	let models = model_ids(&registration.models)?;
	let call = runtime::tx().agents().register(
		registration.name.into_bytes(),
		registration.endpoint.into_bytes(),
		registration.version.into_bytes(),
		models,
		registration.roles.into_iter().map(Role::from).collect(),
		registration.stake,
	);
	let included = chain.submit(&call, &signer, progress).await?;
	let owner = signer.public_key().to_account_id();
	done(chain, "registered", &included, &owner).await
}

fn model_ids(models: &[String]) -> Result<Vec<subxt::utils::H256>, CliError> {
	models.iter().map(|m| model_id(m)).collect()
}

/// The calls an owner (or its operator key, where the chain allows it) makes on its agent.
pub enum Change {
	/// Fields not given keep their values.
	Update {
		name: Option<String>,
		endpoint: Option<String>,
		version: Option<String>,
	},
	SetModels(Vec<String>),
	SetRoles(Vec<RoleArg>),
	Bond(u128),
	Unbond(u128),
	Withdraw,
	Pause,
	Resume,
	Deregister,
	Rejoin,
	SetBatchSpeed(u32),
	SetOperator(AccountId32),
	AcceptOperator(AccountId32),
}

pub async fn change(
	chain: &Chain,
	suri: &str,
	change: Change,
	progress: &Progress,
) -> Result<Report, CliError> {
	let signer = keypair(suri)?;
	let tx = runtime::tx().agents();
	let (included, verb) = match change {
		Change::Update { name, endpoint, version } => {
			// The call replaces all three fields: those not given are sent as they are.
			let owner = signer.public_key().to_account_id();
			let current = fetch(chain, &owner)
				.await?
				.ok_or_else(|| CliError::NotFound(format!("{owner} owns no agent")))?;
			let call = tx.update_metadata(
				name.unwrap_or(current.name).into_bytes(),
				endpoint.unwrap_or(current.endpoint).into_bytes(),
				version.unwrap_or(current.version).into_bytes(),
			);
			(chain.submit(&call, &signer, progress).await?, "updated")
		},
		Change::SetModels(models) => {
			let call = tx.set_models(model_ids(&models)?);
			(chain.submit(&call, &signer, progress).await?, "models set")
		},
		Change::SetRoles(roles) => {
			let call = tx.set_roles(roles.into_iter().map(Role::from).collect());
			(chain.submit(&call, &signer, progress).await?, "roles set")
		},
		Change::Bond(amount) => {
			(chain.submit(&tx.bond_extra(amount), &signer, progress).await?, "bonded")
		},
		Change::Unbond(amount) => {
			(chain.submit(&tx.unbond(amount), &signer, progress).await?, "unbonding")
		},
		Change::Withdraw => {
			(chain.submit(&tx.withdraw_unbonded(), &signer, progress).await?, "withdrawn")
		},
		Change::Pause => (chain.submit(&tx.pause(), &signer, progress).await?, "paused"),
		Change::Resume => (chain.submit(&tx.resume(), &signer, progress).await?, "resumed"),
		Change::Deregister => {
			(chain.submit(&tx.deregister(), &signer, progress).await?, "deregistered")
		},
		Change::Rejoin => (chain.submit(&tx.rejoin(), &signer, progress).await?, "rejoined"),
		Change::SetBatchSpeed(speed) => {
			let call = tx.set_batch_speed(speed);
			(chain.submit(&call, &signer, progress).await?, "batch speed set")
		},
		Change::SetOperator(operator) => {
			let call = tx.set_operator(MultiAddress::Id(operator));
			(chain.submit(&call, &signer, progress).await?, "operator proposed")
		},
		Change::AcceptOperator(owner) => {
			let call = tx.accept_operator(MultiAddress::Id(owner));
			(chain.submit(&call, &signer, progress).await?, "operator accepted")
		},
	};
	let owner = owner_of(chain, included.block_hash, signer.public_key().to_account_id()).await?;
	done(chain, verb, &included, &owner).await
}

/// The agent `signer` acts for at block `at`: its own, or the one whose operator key it is.
async fn owner_of(chain: &Chain, at: H256, signer: AccountId32) -> Result<AccountId32, CliError> {
	let client = chain.at(at).await?;
	let operated =
		stored(&client, runtime::storage().agents().operators(), (signer.clone(),)).await?;
	Ok(operated.unwrap_or(signer))
}

/// What a transaction did to `owner`'s agent, read at the block it is in.
async fn done(
	chain: &Chain,
	verb: &str,
	included: &Included,
	owner: &AccountId32,
) -> Result<Report, CliError> {
	let view = chain
		.query_at(included.block_hash, runtime::runtime_apis().agents_api().agent(owner.clone()))
		.await?;
	let (text, agent) = match &view {
		Some(view) => (
			format!("{verb} in block #{}\n{}", included.block_number, agent_text(view)),
			agent_json(view),
		),
		None => (
			format!("{verb} in block #{}; {owner} owns no agent any more", included.block_number),
			Value::Null,
		),
	};
	let mut json = included.json(verb);
	json["agent"] = agent;
	Ok(Report::new(text, json))
}
