//! `agentchain`: the operator command line for AgentChain. See `docs/cli.md`.

mod agent;
mod chain;
mod challenge;
mod data;
mod edge;
mod keys;
mod logging;
mod mcp;
mod output;
mod status;
mod task;
mod units;
mod validator;

use clap::{Parser, Subcommand};
use output::{Progress, Report};
use serde_json::json;
use std::time::Duration;
use subxt::utils::{AccountId32, H256};

/// Operate on AgentChain: keys, agents, inference tasks.
///
/// Every command that changes the chain signs with `--suri` (or AGENTCHAIN_SURI), waits until
/// its transaction is in a block and prints what changed; a rejected call prints the chain's
/// error with its explanation and exits with status 1. Invalid arguments are refused before
/// anything is signed (exit status 2).
#[derive(Parser, Debug)]
#[command(name = "agentchain", version, propagate_version = true)]
struct Cli {
	/// The node to talk to (WebSocket RPC).
	#[arg(long, global = true, env = "AGENTCHAIN_URL", default_value = "ws://127.0.0.1:9944")]
	url: String,
	/// Print one JSON document on stdout instead of text (progress still goes to stderr).
	#[arg(long, global = true)]
	json: bool,
	/// Print no progress on stderr.
	#[arg(long, short, global = true)]
	quiet: bool,
	/// Report a transaction once its block is finalized (by default: once it is in the best
	/// block, a block or two earlier).
	#[arg(long, global = true)]
	finalized: bool,
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
	/// Generate and inspect keys; put an operator key into an agent node's keystore.
	#[command(subcommand)]
	Keys(KeysCommand),
	/// The chain's head and finality, and an account's balances, holds, agent and tasks.
	Status {
		/// The account to show (SS58 or 0x); defaults to the signer of --suri, if given.
		#[arg(long, value_parser = units::parse_account)]
		account: Option<AccountId32>,
		#[command(flatten)]
		signer: OptionalSigner,
	},
	/// Register and run an agent: stake, operator key, pause, leave.
	#[command(subcommand)]
	Agent(AgentCommand),
	/// Submit inference tasks and read their results.
	#[command(subcommand)]
	Task(TaskCommand),
	/// Challenge a result, appeal a verdict, read a dispute or a juror's duties.
	#[command(subcommand)]
	Challenge(ChallengeCommand),
	/// Register datasets, declare a model's, attest them, claim their rewards.
	#[command(subcommand)]
	Data(DataCommand),
	/// Session keys and candidacy in the chain's validator set.
	#[command(subcommand)]
	Validator(ValidatorCommand),
	/// Serve AgentChain to AI agents over the Model Context Protocol (stdio), with spending
	/// limits: tools to list models and agents, run inference with its proof, read tasks and
	/// disputes, challenge a result, and read the account.
	Mcp {
		#[command(flatten)]
		options: Box<mcp::Options>,
	},
}

#[derive(Subcommand, Debug)]
enum ValidatorCommand {
	/// Generate session keys in the keystore of the node at --url (its local RPC port), with the
	/// proof that the account may set them.
	RotateKeys {
		/// The account that will set them (SS58 or 0x); defaults to the signer of --suri.
		#[arg(long, value_parser = units::parse_account, required_unless_present = "suri")]
		owner: Option<AccountId32>,
		#[command(flatten)]
		signer: OptionalSigner,
	},
	/// Set the signer's session keys: those given, or new ones generated on the node at --url.
	SetKeys {
		#[command(flatten)]
		signer: Signer,
		/// The keys from `rotate-keys` (0x…).
		#[arg(long, requires = "proof", value_parser = validator::parse_session_keys)]
		keys: Option<units::HexBytes>,
		/// Their proof from `rotate-keys` (0x…).
		#[arg(long, requires = "keys", value_parser = units::parse_hex)]
		proof: Option<units::HexBytes>,
	},
	/// Bond the candidacy bond and join the candidates (session keys set first).
	Register {
		#[command(flatten)]
		signer: Signer,
	},
	/// Leave the candidates; the bond is returned.
	Leave {
		#[command(flatten)]
		signer: Signer,
	},
	/// The validators of this session, the invulnerables and the candidates.
	Show,
}

#[derive(Subcommand, Debug)]
enum ChallengeCommand {
	/// Claim a task's revealed result is wrong, bonding on it (a jury judges).
	Open {
		#[command(flatten)]
		signer: Signer,
		/// The task.
		task: u64,
		/// The bond in AGC; by default the smallest the chain accepts, printed before it is held.
		#[arg(long, value_parser = units::parse_amount)]
		bond: Option<u128>,
	},
	/// Appeal a dispute's verdict into a larger jury (the smallest bond doubles each round).
	Appeal {
		#[command(flatten)]
		signer: Signer,
		/// The disputed task.
		task: u64,
		/// The bond in AGC; by default the smallest the chain accepts.
		#[arg(long, value_parser = units::parse_amount)]
		bond: Option<u128>,
	},
	/// A dispute: its kind, phase, jury, votes, bonds and verdict.
	Show {
		/// The disputed task.
		task: u64,
	},
	/// The disputes a juror has a vote to commit or reveal on.
	Duties {
		/// The juror agent's owner (SS58 or 0x); defaults to the signer of --suri.
		#[arg(value_parser = units::parse_account, required_unless_present = "suri")]
		juror: Option<AccountId32>,
		#[command(flatten)]
		signer: OptionalSigner,
	},
}

#[derive(Subcommand, Debug)]
enum DataCommand {
	/// Register a dataset (a deposit is held for its record).
	Register {
		#[command(flatten)]
		signer: Signer,
		#[command(flatten)]
		registration: data::Registration,
	},
	/// Change where a dataset is published, its licence or description.
	Update {
		#[command(flatten)]
		signer: Signer,
		dataset: u64,
		/// Where it is published (kept if not given).
		#[arg(long, required_unless_present_any = ["license", "description"])]
		uri: Option<String>,
		/// Its licence (kept if not given).
		#[arg(long)]
		license: Option<String>,
		/// Its description (kept if not given).
		#[arg(long)]
		description: Option<String>,
	},
	/// Retire a dataset: no new model may declare it; what it earned stays claimable.
	Retire {
		#[command(flatten)]
		signer: Signer,
		dataset: u64,
	},
	/// Declare the datasets a model was trained on (signed by the owner of an executor of it).
	Declare {
		#[command(flatten)]
		signer: Signer,
		/// The model, by name or 0x id.
		#[arg(long, value_parser = units::valid_model)]
		model: String,
		/// A dataset id; repeat for several.
		#[arg(long = "dataset", required = true)]
		datasets: Vec<u64>,
	},
	/// Attest a dataset's quality for this epoch, as a curator (0 to 100).
	Attest {
		#[command(flatten)]
		signer: Signer,
		dataset: u64,
		/// From 0 to 100.
		#[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
		score: u8,
	},
	/// Claim what a dataset is owed for its closed epochs (signed by its owner).
	Claim {
		#[command(flatten)]
		signer: Signer,
		dataset: u64,
	},
	/// A dataset's record, metadata and what it is owed.
	Show { dataset: u64 },
	/// The current rewards epoch: its start, what was paid in, the pot.
	Epoch,
}

#[derive(clap::Args, Debug)]
struct Signer {
	/// The signer's secret URI: a phrase, a 0x seed, or //Name for development accounts, with
	/// optional derivations (`<phrase>//operator`).
	#[arg(long, env = "AGENTCHAIN_SURI", hide_env_values = true, value_parser = valid_suri)]
	suri: String,
}

#[derive(clap::Args, Debug)]
struct OptionalSigner {
	/// The signer's secret URI (see `--help` of any command that signs).
	#[arg(long, env = "AGENTCHAIN_SURI", hide_env_values = true, value_parser = valid_suri)]
	suri: Option<String>,
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
	/// A new account: its secret phrase, address and operator key.
	Generate {
		/// Words in the phrase.
		#[arg(long, default_value_t = 12, value_parser = words)]
		words: usize,
	},
	/// The public key and address of a secret URI.
	Inspect {
		/// A phrase, a 0x seed, or //Name, with optional derivations.
		suri: String,
		/// Show the operator key derived from it (`<suri>//operator`), as dev nodes derive theirs.
		#[arg(long)]
		operator: bool,
	},
	/// Put an operator key into the keystore of the node at --url (its local RPC port).
	InsertOperator {
		#[command(flatten)]
		signer: Signer,
		/// Send the secret to a node that is not on this machine (over its RPC connection, which
		/// `ws://` does not encrypt).
		#[arg(long)]
		allow_remote: bool,
	},
}

#[derive(Subcommand, Debug)]
enum AgentCommand {
	/// Register the signer's account as an agent, holding its stake.
	Register {
		#[command(flatten)]
		signer: Signer,
		#[command(flatten)]
		registration: agent::Registration,
	},
	/// An agent's record: stake, operator, status, reputation.
	Show {
		/// The agent's owner (SS58 or 0x); defaults to the signer of --suri.
		#[arg(value_parser = units::parse_account, required_unless_present = "suri")]
		owner: Option<AccountId32>,
		#[command(flatten)]
		signer: OptionalSigner,
	},
	/// The selectable agents serving a model in a role.
	List {
		/// The model, by name or 0x id.
		#[arg(long, value_parser = units::valid_model)]
		model: String,
		#[arg(long, value_enum, default_value = "executor")]
		role: agent::RoleArg,
	},
	/// Change the agent's name, endpoint and version.
	Update {
		#[command(flatten)]
		signer: Signer,
		/// A display name (kept if not given).
		#[arg(long, required_unless_present_any = ["endpoint", "agent_version"])]
		name: Option<String>,
		/// Its endpoint (kept if not given).
		#[arg(long)]
		endpoint: Option<String>,
		/// Its software version (kept if not given).
		#[arg(long = "agent-version")]
		agent_version: Option<String>,
	},
	/// Replace the models the agent serves.
	SetModels {
		#[command(flatten)]
		signer: Signer,
		/// A model, by name or 0x id; repeat for several.
		#[arg(long = "model", required = true, value_parser = units::valid_model)]
		models: Vec<String>,
	},
	/// Replace the agent's roles.
	SetRoles {
		#[command(flatten)]
		signer: Signer,
		/// A role; repeat for several.
		#[arg(long = "role", value_enum, required = true)]
		roles: Vec<agent::RoleArg>,
	},
	/// Hold more stake for the signer's agent.
	Bond {
		#[command(flatten)]
		signer: Signer,
		/// In AGC.
		#[arg(long, value_parser = units::parse_amount)]
		amount: u128,
	},
	/// Start unbonding stake (withdrawable after the unbonding period).
	Unbond {
		#[command(flatten)]
		signer: Signer,
		/// In AGC.
		#[arg(long, value_parser = units::parse_amount)]
		amount: u128,
	},
	/// Release stake whose unbonding period has passed.
	Withdraw {
		#[command(flatten)]
		signer: Signer,
	},
	/// Take no new work until resumed.
	Pause {
		#[command(flatten)]
		signer: Signer,
	},
	/// Take new work again.
	Resume {
		#[command(flatten)]
		signer: Signer,
	},
	/// Leave: all stake starts unbonding.
	Deregister {
		#[command(flatten)]
		signer: Signer,
	},
	/// Do the agent's work as an edge agent, with no node of its own: run its assigned tasks
	/// against an inference endpoint, commit and reveal, sit on its juries, send its heartbeats.
	/// Runs until stopped; prints one line per step (one JSON object per line with --json).
	Run {
		#[command(flatten)]
		options: Box<edge::RunOptions>,
	},
	/// Become selectable again after missing heartbeats.
	Rejoin {
		#[command(flatten)]
		signer: Signer,
	},
	/// Declare how many blocks of the chain's reference batch work (8 items, 64 tokens) the
	/// agent's node does in a block, 1 to 10,000: a batch drawn to the agent is given the time
	/// its open batches, and the new one, take at this speed, if longer than its commit period
	/// (and a margin; while that is at most four commit periods: past it the agent is full
	/// for the batch).
	SetBatchSpeed {
		#[command(flatten)]
		signer: Signer,
		/// Blocks of reference batch work a block.
		speed: u32,
	},
	/// Propose an operator key for the signer's agent (it acts once it accepts).
	SetOperator {
		#[command(flatten)]
		signer: Signer,
		/// The operator key's address.
		#[arg(value_parser = units::parse_account)]
		operator: AccountId32,
	},
	/// Accept to act as the operator key of an agent; signed by the operator key itself.
	AcceptOperator {
		#[command(flatten)]
		signer: Signer,
		/// The agent's owner.
		#[arg(value_parser = units::parse_account)]
		owner: AccountId32,
	},
}

#[derive(Subcommand, Debug)]
enum TaskCommand {
	/// Submit an inference task, paying its fee into escrow.
	Submit {
		#[command(flatten)]
		signer: Signer,
		#[command(flatten)]
		submission: task::Submission,
		/// Follow the task until its output is revealed, or finalised (the default).
		#[arg(long, value_enum, num_args = 0..=1, default_missing_value = "finalised")]
		wait: Option<task::WaitFor>,
		/// Give up waiting after this many seconds.
		#[arg(long, default_value_t = 600)]
		timeout: u64,
	},
	/// Hold funds in advance for your tasks: a submission they cover takes its fee and deposit
	/// from them with no hold of its own, and is charged less.
	Prepay {
		#[command(flatten)]
		signer: Signer,
		/// The amount in AGC.
		#[arg(value_parser = units::parse_amount)]
		amount: u128,
	},
	/// Return prepaid funds to your free balance (never an open task's fee or deposit).
	WithdrawPrepaid {
		#[command(flatten)]
		signer: Signer,
		/// The amount in AGC.
		#[arg(value_parser = units::parse_amount)]
		amount: u128,
	},
	/// Reveal a batch's audit secret (printed by `submit --batch`): waits until the batch's
	/// challenge window has ended, when the chain awaits it, and that end is final, and sends
	/// it. Not revealed within `AuditSecretPeriod` blocks of that end (50, two and a half
	/// minutes), the batch is audited whatever the draw, and you pay its jury. `submit --batch
	/// --wait` reveals it by itself.
	RevealAuditSecret {
		#[command(flatten)]
		signer: Signer,
		/// The batch.
		id: u64,
		/// The secret (0x and 64 hex digits).
		#[arg(long, value_parser = units::parse_hash)]
		secret: H256,
		/// Give up waiting after this many seconds (by default a week: a batch's window may
		/// end days after its submission).
		#[arg(long, default_value_t = 604_800)]
		timeout: u64,
	},
	/// A task's state, executors and output.
	Show { id: u64 },
	/// Follow a task until its output is revealed, or finalised (the default).
	Wait {
		id: u64,
		#[arg(long, value_enum, default_value = "finalised")]
		until: task::WaitFor,
		#[arg(long, default_value_t = 600)]
		timeout: u64,
	},
	/// The open tasks assigned to an executor, or the tasks a requester submitted.
	List {
		/// The executor agent's owner (SS58 or 0x).
		#[arg(long, value_parser = units::parse_account, required_unless_present = "requester", conflicts_with = "requester")]
		executor: Option<AccountId32>,
		/// The requester (SS58 or 0x): its tasks still on chain.
		#[arg(long, value_parser = units::parse_account)]
		requester: Option<AccountId32>,
	},
}

/// Why a command did not do what was asked.
#[derive(Debug)]
pub enum CliError {
	/// An argument is invalid; nothing was signed or sent.
	Invalid(String),
	/// The node cannot be reached.
	Connection(String),
	/// The node answered with an error, or not as expected.
	Rpc(String),
	/// The node's pool refused the transaction, or the task ended without the asked result.
	Refused(String),
	/// The call failed in its block with the pallet's error (it paid its fee, nothing else).
	Dispatch { call: String, error: String, docs: String },
	/// What was asked for does not exist.
	NotFound(String),
	/// Waiting took longer than allowed.
	Timeout(String),
	/// The node runs a runtime this CLI was not built for (a call's shape changed).
	Incompatible(String),
	/// A task that was submitted ended without the result waited for.
	TaskEnded(String),
}

impl CliError {
	pub fn rpc(e: impl std::fmt::Display) -> Self {
		CliError::Rpc(e.to_string())
	}

	fn kind(&self) -> &'static str {
		match self {
			CliError::Invalid(_) => "invalid",
			CliError::Connection(_) => "connection",
			CliError::Rpc(_) => "rpc",
			CliError::Refused(_) => "refused",
			CliError::Dispatch { .. } => "dispatch",
			CliError::NotFound(_) => "not-found",
			CliError::Timeout(_) => "timeout",
			CliError::Incompatible(_) => "incompatible",
			CliError::TaskEnded(_) => "task-ended",
		}
	}

	fn exit_code(&self) -> i32 {
		match self {
			CliError::Invalid(_) => 2,
			_ => 1,
		}
	}

	fn to_json(&self) -> serde_json::Value {
		match self {
			CliError::Dispatch { call, error, docs } => json!({
				"error": { "kind": self.kind(), "call": call, "name": error, "docs": docs, "message": self.to_string() }
			}),
			_ => json!({ "error": { "kind": self.kind(), "message": self.to_string() } }),
		}
	}
}

impl std::fmt::Display for CliError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			CliError::Invalid(m)
			| CliError::Connection(m)
			| CliError::Rpc(m)
			| CliError::Refused(m)
			| CliError::NotFound(m)
			| CliError::Timeout(m)
			| CliError::Incompatible(m)
			| CliError::TaskEnded(m) => write!(f, "{m}"),
			CliError::Dispatch { call, error, docs } if docs.is_empty() => {
				write!(f, "{call} failed: {error}")
			},
			CliError::Dispatch { call, error, docs } => write!(f, "{call} failed: {error}: {docs}"),
		}
	}
}

/// A secret URI that gives a key, checked as the arguments are read (before any connection).
fn valid_suri(text: &str) -> Result<String, String> {
	keys::keypair(text).map(|_| text.to_string()).map_err(|e| e.to_string())
}

fn words(text: &str) -> Result<usize, String> {
	match text {
		"12" => Ok(12),
		"24" => Ok(24),
		_ => Err("a phrase has 12 or 24 words".into()),
	}
}

fn signer_account(
	explicit: Option<AccountId32>,
	signer: &OptionalSigner,
	what: &str,
) -> Result<AccountId32, CliError> {
	match (explicit, &signer.suri) {
		(Some(account), _) => Ok(account),
		(None, Some(suri)) => Ok(keys::keypair(suri)?.public_key().to_account_id()),
		(None, None) => Err(CliError::Invalid(format!("name {what} (an address) or give --suri"))),
	}
}

async fn run(cli: Cli) -> Result<Report, CliError> {
	// The edge agent runs until stopped or until it loses the chain.
	let cli = match cli {
		Cli { command: Command::Agent(AgentCommand::Run { options }), url, json, .. } => {
			return match edge::run(&url, *options, json).await {
				Ok(never) => match never {},
				Err(e) => Err(e),
			}
		},
		Cli { command: Command::Mcp { options }, url, .. } => {
			// Stdout is the MCP channel: nothing more is printed on it once the client closed.
			return match mcp::serve(&url, *options).await {
				Ok(()) => std::process::exit(0),
				Err(e) => Err(e),
			};
		},
		cli => cli,
	};
	let progress = Progress::new(cli.quiet);
	// Commands that need no node are answered before connecting.
	match &cli.command {
		Command::Keys(KeysCommand::InsertOperator { allow_remote: false, .. })
			if !keys::is_local(&cli.url) =>
		{
			return Err(CliError::Invalid(format!(
				"{} is not on this machine: the operator key's secret would cross the network; \
				 add --allow-remote to send it anyway",
				cli.url
			)))
		},
		Command::Keys(KeysCommand::Generate { words }) => return keys::generate(*words),
		Command::Keys(KeysCommand::Inspect { suri, operator }) => {
			return keys::inspect(suri, *operator)
		},
		_ => {},
	}
	let chain = chain::Chain::connect(&cli.url, cli.finalized).await?;
	match cli.command {
		Command::Keys(KeysCommand::InsertOperator { signer, .. }) => {
			keys::insert_operator(&chain, &signer.suri).await
		},
		Command::Keys(_) => Err(CliError::Invalid("this keys command needs no node".into())),
		Command::Status { account, signer } => {
			let account = match (account, &signer.suri) {
				(None, None) => None,
				(account, _) => Some(signer_account(account, &signer, "an account")?),
			};
			status::status(&chain, account).await
		},
		Command::Agent(command) => {
			use agent::Change;
			let (suri, change) = match command {
				AgentCommand::Register { signer, registration } => {
					return agent::register(&chain, &signer.suri, registration, &progress).await
				},
				AgentCommand::Show { owner, signer } => {
					return agent::show(
						&chain,
						signer_account(owner, &signer, "the agent's owner")?,
					)
					.await
				},
				AgentCommand::List { model, role } => {
					return agent::list(&chain, &model, role).await
				},
				AgentCommand::Update { signer, name, endpoint, agent_version } => {
					(signer.suri, Change::Update { name, endpoint, version: agent_version })
				},
				AgentCommand::SetModels { signer, models } => {
					(signer.suri, Change::SetModels(models))
				},
				AgentCommand::SetRoles { signer, roles } => (signer.suri, Change::SetRoles(roles)),
				AgentCommand::Bond { signer, amount } => (signer.suri, Change::Bond(amount)),
				AgentCommand::Unbond { signer, amount } => (signer.suri, Change::Unbond(amount)),
				AgentCommand::Withdraw { signer } => (signer.suri, Change::Withdraw),
				AgentCommand::Pause { signer } => (signer.suri, Change::Pause),
				AgentCommand::Resume { signer } => (signer.suri, Change::Resume),
				AgentCommand::Deregister { signer } => (signer.suri, Change::Deregister),
				AgentCommand::Rejoin { signer } => (signer.suri, Change::Rejoin),
				AgentCommand::SetBatchSpeed { signer, speed } => {
					(signer.suri, Change::SetBatchSpeed(speed))
				},
				AgentCommand::Run { .. } => {
					return Err(CliError::Invalid(
						"`agent run` is answered before connecting".into(),
					))
				},
				AgentCommand::SetOperator { signer, operator } => {
					(signer.suri, Change::SetOperator(operator))
				},
				AgentCommand::AcceptOperator { signer, owner } => {
					(signer.suri, Change::AcceptOperator(owner))
				},
			};
			agent::change(&chain, &suri, change, &progress).await
		},
		Command::Task(command) => match command {
			TaskCommand::Submit { signer, submission, wait, timeout } => {
				task::submit(
					&chain,
					&signer.suri,
					submission,
					wait,
					Duration::from_secs(timeout),
					&progress,
				)
				.await
			},
			TaskCommand::Prepay { signer, amount } => {
				task::prepaid(&chain, &signer.suri, amount, false, &progress).await
			},
			TaskCommand::WithdrawPrepaid { signer, amount } => {
				task::prepaid(&chain, &signer.suri, amount, true, &progress).await
			},
			TaskCommand::RevealAuditSecret { signer, id, secret, timeout } => {
				task::reveal_audit_secret(
					&chain,
					&signer.suri,
					id,
					secret,
					Duration::from_secs(timeout),
					&progress,
				)
				.await
			},
			TaskCommand::Show { id } => task::show(&chain, id).await,
			TaskCommand::Wait { id, until, timeout } => {
				// The task must exist now; it is then followed from the best block on.
				task::fetch(&chain, id).await?.ok_or_else(|| task::no_such_task(id))?;
				let view = task::follow(&chain, id, until, Duration::from_secs(timeout), &progress)
					.await?;
				Ok(task::report(&view))
			},
			TaskCommand::List { executor, requester } => {
				let whose = match (executor, requester) {
					(Some(executor), _) => task::Whose::Executor(executor),
					(None, Some(requester)) => task::Whose::Requester(requester),
					(None, None) => {
						return Err(CliError::Invalid("give --executor or --requester".into()))
					},
				};
				task::list(&chain, whose).await
			},
		},
		Command::Challenge(command) => match command {
			ChallengeCommand::Open { signer, task, bond } => {
				challenge::open(&chain, &signer.suri, task, bond, false, &progress).await
			},
			ChallengeCommand::Appeal { signer, task, bond } => {
				challenge::open(&chain, &signer.suri, task, bond, true, &progress).await
			},
			ChallengeCommand::Show { task } => challenge::show(&chain, task).await,
			ChallengeCommand::Duties { juror, signer } => {
				challenge::duties(&chain, signer_account(juror, &signer, "the juror")?).await
			},
		},
		Command::Mcp { .. } => Err(CliError::Invalid("`mcp` is answered before connecting".into())),
		Command::Validator(command) => match command {
			ValidatorCommand::RotateKeys { owner, signer } => {
				validator::rotate_keys(&chain, signer_account(owner, &signer, "the owner")?).await
			},
			ValidatorCommand::SetKeys { signer, keys, proof } => {
				let given = keys.zip(proof).map(|(keys, proof)| (keys.0, proof.0));
				validator::set_keys(&chain, &signer.suri, given, &progress).await
			},
			ValidatorCommand::Register { signer } => {
				validator::candidacy(&chain, &signer.suri, true, &progress).await
			},
			ValidatorCommand::Leave { signer } => {
				validator::candidacy(&chain, &signer.suri, false, &progress).await
			},
			ValidatorCommand::Show => validator::show(&chain).await,
		},
		Command::Data(command) => {
			use data::Change;
			let (suri, change) = match command {
				DataCommand::Register { signer, registration } => {
					return data::register(&chain, &signer.suri, registration, &progress).await
				},
				DataCommand::Show { dataset } => return data::show(&chain, dataset).await,
				DataCommand::Epoch => return data::epoch(&chain).await,
				DataCommand::Update { signer, dataset, uri, license, description } => {
					(signer.suri, Change::Update { dataset, uri, license, description })
				},
				DataCommand::Retire { signer, dataset } => (signer.suri, Change::Retire(dataset)),
				DataCommand::Declare { signer, model, datasets } => {
					(signer.suri, Change::Declare { model, datasets })
				},
				DataCommand::Attest { signer, dataset, score } => {
					(signer.suri, Change::Attest { dataset, score })
				},
				DataCommand::Claim { signer, dataset } => (signer.suri, Change::Claim(dataset)),
			};
			data::change(&chain, &suri, change, &progress).await
		},
	}
}

#[tokio::main]
async fn main() {
	let cli = match Cli::try_parse() {
		Ok(cli) => cli,
		Err(error) => {
			// Invalid arguments: with --json, a JSON error on stdout as for every other error.
			let json = std::env::args_os().any(|arg| arg == "--json");
			if json && error.use_stderr() {
				let rendered = error.render().to_string();
				let message = rendered.trim().trim_start_matches("error: ").to_string();
				let report = CliError::Invalid(message);
				std::process::exit(output::print_error(&report, true));
			}
			error.exit();
		},
	};
	let json = cli.json;
	if let Err(message) = logging::init() {
		std::process::exit(output::print_error(&CliError::Invalid(message), json));
	}
	match run(cli).await {
		Ok(report) => report.print(json),
		Err(error) => std::process::exit(output::print_error(&error, json)),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use clap::CommandFactory;

	#[test]
	fn the_command_line_is_well_formed() {
		Cli::command().debug_assert();
	}

	#[test]
	fn every_argument_reads_back_as_its_type() {
		// clap checks an argument's type only when it is read: parse one command of each shape.
		let alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
		let hash = format!("0x{}", "11".repeat(32));
		let keys = format!("0x{}", "22".repeat(64));
		for args in [
			vec!["validator", "set-keys", "--suri", "//Eve", "--keys", &keys, "--proof", "0x01"],
			vec!["agent", "update", "--suri", "//A", "--endpoint", "e"],
			vec!["data", "update", "--suri", "//A", "1", "--description", "d"],
			vec!["validator", "rotate-keys", "--owner", alice],
			vec![
				"task",
				"submit",
				"--suri",
				"//Bob",
				"--model",
				"m",
				"--input-uri",
				"u",
				"--input-hash",
				&hash,
				"--fee",
				"1",
				"--wait",
			],
			vec!["task", "list", "--requester", alice],
			vec![
				"data",
				"register",
				"--suri",
				"//A",
				"--content-hash",
				&hash,
				"--size",
				"3",
				"--uri",
				"u",
				"--license",
				"l",
			],
			vec!["data", "attest", "--suri", "//A", "1", "--score", "100"],
			vec![
				"agent", "register", "--suri", "//A", "--name", "n", "--model", "m", "--role",
				"executor", "--stake", "1",
			],
			vec!["challenge", "open", "--suri", "//A", "1", "--bond", "2"],
			vec!["status", "--account", alice],
		] {
			let parsed =
				Cli::try_parse_from(std::iter::once("agentchain").chain(args.iter().copied()));
			assert!(parsed.is_ok(), "{args:?}: {:?}", parsed.err());
		}
	}
}
