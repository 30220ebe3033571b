//! `agentchain status`: one screen with the chain's head and finality and, for an account, its
//! balances and holds, its agent and the tasks assigned to it.

use crate::{
	agent,
	chain::{runtime, stored, Chain},
	output::Report,
	units::format_amount,
	CliError,
};
use serde_json::json;
use subxt::utils::AccountId32;

pub async fn status(chain: &Chain, account: Option<AccountId32>) -> Result<Report, CliError> {
	let rpc = &chain.rpc;
	let name = rpc.system_chain().await.map_err(CliError::rpc)?;
	let health = rpc.system_health().await.map_err(CliError::rpc)?;
	let best_hash = chain.best().await?;
	let best = chain.number_of(best_hash).await?;
	let finalized_hash = rpc.chain_get_finalized_head().await.map_err(CliError::rpc)?;
	let finalized = chain.number_of(finalized_hash).await?;
	let at = chain.at(best_hash).await?;
	let spec_version = at.spec_version();
	let mut text = format!(
		"{name} (runtime version {spec_version}), {} peer(s){}\n  best:       #{} {best_hash:?}\n  finalized:  #{} {finalized_hash:?}\n",
		health.peers,
		if health.is_syncing { ", syncing" } else { "" },
		best,
		finalized,
	);
	let mut json = json!({
		"chain": name,
		"specVersion": spec_version,
		"peers": health.peers,
		"syncing": health.is_syncing,
		"best": { "number": best, "hash": format!("{best_hash:?}") },
		"finalized": { "number": finalized, "hash": format!("{finalized_hash:?}") },
	});
	let Some(account) = account else {
		return Ok(Report::new(text, json));
	};

	// An account the chain has never seen reads as its default: nothing held, nothing free.
	let info = stored(&at, runtime::storage().system().account(), (account.clone(),))
		.await?
		.ok_or_else(|| {
			CliError::Rpc(format!("the node returned no account record for {account}"))
		})?;
	let holds: Vec<(String, u128)> =
		stored(&at, runtime::storage().balances().holds(), (account.clone(),))
			.await?
			.map(|holds| holds.0.iter().map(|hold| (hold_reason(&hold.id), hold.amount)).collect())
			.unwrap_or_default();
	text.push_str(&format!(
		"account {account}\n  free:       {}\n  reserved:   {} (holds and deposits)\n",
		format_amount(info.data.free),
		format_amount(info.data.reserved),
	));
	for (reason, amount) in &holds {
		text.push_str(&format!("    held for {reason}: {}\n", format_amount(*amount)));
	}
	let agent = chain
		.query_at(best_hash, runtime::runtime_apis().agents_api().agent(account.clone()))
		.await?;
	match &agent {
		Some(view) => text.push_str(&format!(
			"  agent:      {} ({}), stake {}, {} open task(s)\n",
			view.name,
			agent::status_name(&view.status),
			format_amount(view.stake),
			view.open_work
		)),
		None => text.push_str("  agent:      none\n"),
	}
	let tasks = crate::task::assigned_to(chain, best_hash, &account).await?;
	for view in &tasks {
		text.push_str(&format!(
			"    task {}: {}\n",
			view.id,
			crate::task::status_name(&view.status)
		));
	}
	let duties = chain
		.query_at(best_hash, runtime::runtime_apis().challenges_api().duties(account.clone()))
		.await?
		.map(|d| d.tasks)
		.unwrap_or_default();
	if !duties.is_empty() {
		text.push_str(&format!(
			"  jury duty:  task(s) {}\n",
			duties.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
		));
	}
	json["account"] = json!({
		"address": account.to_string(),
		"nonce": info.nonce,
		"free": info.data.free.to_string(),
		"reserved": info.data.reserved.to_string(),
		"frozen": info.data.frozen.to_string(),
		"holds": holds.iter().map(|(reason, amount)| json!({ "reason": reason, "amount": amount.to_string() })).collect::<Vec<_>>(),
		"agent": agent.as_ref().map(agent::agent_json),
		"tasks": tasks.iter().map(crate::task::task_json).collect::<Vec<_>>(),
		"juryDuties": duties,
	});
	Ok(Report::new(text, json))
}

/// A hold's reason as `pallet.Reason`, read from its debug form (`Agents(AgentStake)`).
fn hold_reason(reason: &impl std::fmt::Debug) -> String {
	let debug = format!("{reason:?}");
	match debug.split_once('(') {
		Some((pallet, rest)) => {
			format!("{}.{}", crate::chain::lower_first(pallet), rest.trim_end_matches(')'))
		},
		None => debug,
	}
}
