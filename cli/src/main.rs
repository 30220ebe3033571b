//! `agentchain`: the operator command line for AgentChain. See `docs/cli.md`.

mod agent;
mod chain;
mod keys;
mod output;
mod status;
mod task;
mod units;

use clap::{Parser, Subcommand};
use output::{Progress, Report};
use serde_json::json;
use std::time::Duration;
use subxt::utils::AccountId32;

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
}

#[derive(clap::Args, Debug)]
struct Signer {
	/// The signer's secret URI: a phrase, a 0x seed, or //Name for development accounts, with
	/// optional derivations (`<phrase>//operator`).
	#[arg(long, env = "AGENTCHAIN_SURI", hide_env_values = true)]
	suri: String,
}

#[derive(clap::Args, Debug)]
struct OptionalSigner {
	/// The signer's secret URI (see `--help` of any command that signs).
	#[arg(long, env = "AGENTCHAIN_SURI", hide_env_values = true)]
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
		#[arg(value_parser = units::parse_account)]
		owner: Option<AccountId32>,
		#[command(flatten)]
		signer: OptionalSigner,
	},
	/// The selectable agents serving a model in a role.
	List {
		/// The model, by name or 0x id.
		#[arg(long)]
		model: String,
		#[arg(long, value_enum, default_value = "executor")]
		role: agent::RoleArg,
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
	/// Become selectable again after missing heartbeats.
	Rejoin {
		#[command(flatten)]
		signer: Signer,
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
	/// The open tasks assigned to an executor.
	List {
		/// The executor agent's owner (SS58 or 0x).
		#[arg(long, value_parser = units::parse_account)]
		executor: AccountId32,
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
			| CliError::Timeout(m) => write!(f, "{m}"),
			CliError::Dispatch { call, error, docs } if docs.is_empty() => {
				write!(f, "{call} failed: {error}")
			},
			CliError::Dispatch { call, error, docs } => write!(f, "{call} failed: {error}: {docs}"),
		}
	}
}

/// A transaction's events, by name with their fields, for `--json`.
pub fn events_json(
	events: &subxt::extrinsics::ExtrinsicEvents<chain::Config>,
) -> serde_json::Value {
	let list: Vec<_> = events
		.iter()
		.filter_map(Result::ok)
		.map(|event| {
			let fields = event
				.decode_fields_unchecked_as::<subxt::ext::scale_value::Composite<()>>()
				.map(|fields| fields.to_string())
				.unwrap_or_default();
			json!({ "name": format!("{}.{}", event.pallet_name(), event.event_name()), "fields": fields })
		})
		.collect();
	serde_json::Value::Array(list)
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
	let progress = Progress::new(cli.quiet);
	// Commands that need no node are answered before connecting.
	match &cli.command {
		Command::Keys(KeysCommand::Generate { words }) => return keys::generate(*words),
		Command::Keys(KeysCommand::Inspect { suri, operator }) => {
			return keys::inspect(suri, *operator)
		},
		_ => {},
	}
	let chain = chain::Chain::connect(&cli.url).await?;
	match cli.command {
		Command::Keys(KeysCommand::InsertOperator { signer }) => {
			keys::insert_operator(&chain, &signer.suri).await
		},
		Command::Keys(_) => unreachable!("answered above"),
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
				AgentCommand::Bond { signer, amount } => (signer.suri, Change::Bond(amount)),
				AgentCommand::Unbond { signer, amount } => (signer.suri, Change::Unbond(amount)),
				AgentCommand::Withdraw { signer } => (signer.suri, Change::Withdraw),
				AgentCommand::Pause { signer } => (signer.suri, Change::Pause),
				AgentCommand::Resume { signer } => (signer.suri, Change::Resume),
				AgentCommand::Deregister { signer } => (signer.suri, Change::Deregister),
				AgentCommand::Rejoin { signer } => (signer.suri, Change::Rejoin),
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
			TaskCommand::Show { id } => task::show(&chain, id).await,
			TaskCommand::Wait { id, until, timeout } => {
				// The task must exist now; it is then followed from the best block on.
				task::fetch(&chain, id).await?.ok_or_else(|| {
					CliError::NotFound(format!(
						"there is no task {id} (never submitted, or pruned after it ended)"
					))
				})?;
				let view = task::follow(&chain, id, until, Duration::from_secs(timeout), &progress)
					.await?;
				Ok(task::report(&view))
			},
			TaskCommand::List { executor } => task::list(&chain, executor).await,
		},
	}
}

#[tokio::main]
async fn main() {
	let cli = Cli::parse();
	let json = cli.json;
	match run(cli).await {
		Ok(report) => report.print(json),
		Err(error) => std::process::exit(output::print_error(&error, json)),
	}
}
