//! `agentchain challenge`: dispute a revealed result, appeal a verdict, read a dispute and a
//! juror's duties.

use crate::{
	chain::{
		runtime::{
			self,
			runtime_types::agentchain_primitives::{
				api::DisputeView,
				challenges::{DisputeKind, DisputePhase},
			},
		},
		Chain,
	},
	keys::keypair,
	output::{Progress, Report},
	task,
	units::{format_amount, hex32},
	CliError,
};
use serde_json::{json, Value};
use subxt::utils::AccountId32;

fn phase_name(phase: &DisputePhase) -> &'static str {
	match phase {
		DisputePhase::Drawing => "drawing the jury",
		DisputePhase::Committing => "jurors committing votes",
		DisputePhase::Revealing => "jurors revealing votes",
		DisputePhase::Appealable => "appealable",
		DisputePhase::Showing => "showing the disputed item",
		DisputePhase::Bisecting => "bisecting two batch roots",
	}
}

pub fn dispute_json(view: &DisputeView<AccountId32>) -> Value {
	let kind = match &view.kind {
		DisputeKind::Challenge { challenger } => json!({ "challenge": challenger.to_string() }),
		DisputeKind::Disagreement => json!("disagreement"),
		DisputeKind::Audit => json!("audit"),
	};
	json!({
		"task": view.task,
		"kind": kind,
		"model": hex32(&view.model),
		"result": view.result.as_ref().map(hex32),
		"revealed": view.revealed.iter().map(|(who, output)| json!({ "executor": who.to_string(), "output": hex32(output) })).collect::<Vec<_>>(),
		"round": view.round,
		"phase": phase_name(&view.phase),
		"phaseEnds": view.phase_ends,
		"jurors": view.jurors.iter().map(|j| json!({
			"juror": j.juror.to_string(),
			"committed": j.committed,
			"vote": j.vote.as_ref().map(hex32),
		})).collect::<Vec<_>>(),
		"verdict": view.verdict.as_ref().map(hex32),
		"bonds": view.bonds.iter().map(|b| json!({
			"who": b.who.to_string(),
			"amount": b.amount.to_string(),
			"backsOutput": b.backs_output.as_ref().map(hex32),
		})).collect::<Vec<_>>(),
	})
}

fn dispute_text(view: &DisputeView<AccountId32>) -> String {
	let kind = match &view.kind {
		DisputeKind::Challenge { challenger } => format!("challenged by {challenger}"),
		DisputeKind::Disagreement => "executors disagree".to_string(),
		DisputeKind::Audit => "protocol audit".to_string(),
	};
	let mut text = format!(
		"dispute on task {} — {kind}, round {}, {} until block #{}\n  result:      {}\n",
		view.task,
		view.round,
		phase_name(&view.phase),
		view.phase_ends,
		view.result.as_ref().map(hex32).unwrap_or_else(|| "none".into()),
	);
	for juror in &view.jurors {
		let state = match (&juror.vote, juror.committed) {
			(Some(vote), _) => format!("voted {}", hex32(vote)),
			(None, true) => "committed".to_string(),
			(None, false) => "drawn".to_string(),
		};
		text.push_str(&format!("  juror:       {} ({state})\n", juror.juror));
	}
	for bond in &view.bonds {
		text.push_str(&format!("  bond:        {} by {}\n", format_amount(bond.amount), bond.who));
	}
	if let Some(verdict) = &view.verdict {
		text.push_str(&format!("  verdict:     {}\n", hex32(verdict)));
	}
	text
}

pub async fn fetch(chain: &Chain, task: u64) -> Result<Option<DisputeView<AccountId32>>, CliError> {
	chain.query(runtime::runtime_apis().challenges_api().dispute(task)).await
}

pub async fn show(chain: &Chain, task: u64) -> Result<Report, CliError> {
	let view = fetch(chain, task)
		.await?
		.ok_or_else(|| CliError::NotFound(format!("task {task} has no open dispute")))?;
	Ok(Report::new(dispute_text(&view), dispute_json(&view)))
}

/// The smallest bond that challenges a task of fee `fee` (opening round 0), or appeals into
/// `round`: `max(MinChallengeBond, fee × ChallengeBondFeeMultiple) × 2^round`, from the
/// constants of the runtime the node runs.
pub async fn minimum_bond(chain: &Chain, fee: u128, round: u32) -> Result<u128, CliError> {
	let at = chain.at_best().await?;
	let constants = at.constants();
	let min = constants
		.entry(runtime::constants().challenges().min_challenge_bond())
		.map_err(CliError::rpc)?;
	let multiple = constants
		.entry(runtime::constants().challenges().challenge_bond_fee_multiple())
		.map_err(CliError::rpc)?;
	let base = min.max(fee.saturating_mul(u128::from(multiple)));
	Ok(base.saturating_mul(1u128.checked_shl(round).unwrap_or(u128::MAX)))
}

/// Challenges task `id`'s revealed result (`appeal`: appeals the dispute's verdict) with `bond`,
/// by default the smallest the chain accepts, which is printed before it is held.
pub async fn open(
	chain: &Chain,
	suri: &str,
	id: u64,
	bond: Option<u128>,
	appeal: bool,
	progress: &Progress,
) -> Result<Report, CliError> {
	let signer = keypair(suri)?;
	let task = task::fetch(chain, id).await?.ok_or_else(|| task::no_such_task(id))?;
	let round = if appeal {
		let dispute = fetch(chain, id)
			.await?
			.ok_or_else(|| CliError::NotFound(format!("task {id} has no dispute to appeal")))?;
		dispute.round.saturating_add(1)
	} else {
		0
	};
	let bond = match bond {
		Some(bond) => bond,
		None => minimum_bond(chain, task.fee, round).await?,
	};
	let what = if appeal { "appeal" } else { "challenge" };
	progress.step(&format!("{what} of task {id}: bonding {}", format_amount(bond)));
	let tx = runtime::tx().challenges();
	let included = if appeal {
		chain.submit(&tx.appeal(id, bond), &signer, progress).await?
	} else {
		chain.submit(&tx.challenge(id, bond), &signer, progress).await?
	};
	let view = chain
		.query_at(included.block_hash, runtime::runtime_apis().challenges_api().dispute(id))
		.await?;
	let mut json = included.json(what);
	json["task"] = json!(id);
	json["bond"] = json!(bond.to_string());
	json["dispute"] = json!(view.as_ref().map(dispute_json));
	let text = match &view {
		Some(view) => format!(
			"{what} of task {id} with a bond of {} in block #{}\n{}",
			format_amount(bond),
			included.block_number,
			dispute_text(view)
		),
		None => {
			json["dispute"] = Value::Null;
			format!("{what} of task {id} in block #{}", included.block_number)
		},
	};
	Ok(Report::new(text, json))
}

/// The disputes on which `juror` sits and has a vote to commit or reveal.
pub async fn duties(chain: &Chain, juror: AccountId32) -> Result<Report, CliError> {
	let view = chain
		.query(runtime::runtime_apis().challenges_api().duties(juror.clone()))
		.await?;
	let tasks = view.map(|v| v.tasks).unwrap_or_default();
	let text = if tasks.is_empty() {
		format!("{juror} has no jury duty")
	} else {
		format!(
			"{juror} sits on the juries of task(s) {}",
			tasks.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
		)
	};
	Ok(Report::new(text, json!({ "juror": juror.to_string(), "tasks": tasks })))
}
