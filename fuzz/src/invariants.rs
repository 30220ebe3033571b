//! What must hold after every extrinsic and every block, whatever was called.
//!
//! - **Money is conserved**: the total issuance equals the sum over every account of its free and
//!   reserved (held included) balance; checked after each extrinsic and each block.
//! - **Money is created or destroyed only where documented**: a block's change of total issuance
//!   equals what the balances pallet reports minted, issued, burnt or rescinded (dust included), and
//!   only the data-rewards pot is ever minted into (its epoch emission).
//! - **The pallets' own invariants** (`try_state`) hold after each block: the four AgentChain
//!   pallets' (their checks are compiled in natively, without the `try-runtime` feature).
//! - **Every reservation of stake is backed by work, and all work by a reservation**: each agent's
//!   reserved collateral and count of open work are the sums over what holds them in the three
//!   pallets that reserve (its task assignments, jury seats and attestations); checked after each
//!   block. No pallet sees this alone: each knows only its own work.
//! - **Blocks stay within their weight**: after the last extrinsic, the block's weight (hooks
//!   included) is within the block's maximum and each dispatch class within its own. In the block
//!   in which a session rotates, which FRAME's session pallet claims whole, the rest of the block
//!   must weigh no more than the maximum besides that claim.
//! - **No extrinsic outweighs its declaration**: FRAME clamps a post-dispatch weight above the
//!   declared one and logs an error, which [`crate::logs`] turns into a failure, as it does any
//!   `defensive!` failure.

use agentchain_runtime::{
	configs::RuntimeBlockWeights, AccountId, Balance, Runtime, RuntimeEvent, System,
};
use frame_support::{
	dispatch::{DispatchClass, DispatchInfo},
	weights::Weight,
};

/// Checks the block's weight so far against its limits. Returns the number of checks made.
pub fn block_weight() -> Result<u64, String> {
	let limits = RuntimeBlockWeights::get();
	let consumed = System::block_weight();
	let total = consumed.total();
	// In a block where a session rotates, the session pallet claims the whole block: what the rest
	// of the block weighs must fit besides that claim.
	let claim = if is_session_rotation() { limits.max_block } else { Weight::zero() };
	if total.saturating_sub(claim).any_gt(limits.max_block) {
		return Err(format!(
			"the block weighs {total:?}, over its maximum {:?}{}",
			limits.max_block,
			if claim == Weight::zero() {
				""
			} else {
				" besides the session rotation's claim of as much"
			}
		));
	}
	for class in [DispatchClass::Normal, DispatchClass::Operational] {
		let used = *consumed.get(class);
		if let Some(max) = limits.get(class).max_total {
			if used.any_gt(max) {
				return Err(format!(
					"{class:?} extrinsics weigh {used:?}, over their maximum {max:?}"
				));
			}
		}
	}
	Ok(3)
}

/// Whether a new session started in this block. Its rotation claims the whole block: FRAME's
/// session pallet returns the block's maximum weight from `on_initialize` when it rotates, so
/// with the other hooks that block weighs more than its maximum, by their weight. Normal
/// extrinsics then fit no more; operational ones still do, within their reserved share.
fn is_session_rotation() -> bool {
	System::events().iter().any(|record| {
		matches!(record.event, RuntimeEvent::Session(pallet_session::Event::NewSession { .. }))
	})
}

/// The sum of every account's free and reserved balance, and the total issuance.
fn balances() -> (Balance, Balance) {
	let sum = frame_system::Account::<Runtime>::iter_values().fold(0u128, |sum, info| {
		sum.saturating_add(info.data.free).saturating_add(info.data.reserved)
	});
	(sum, pallet_balances::TotalIssuance::<Runtime>::get())
}

fn conserved() -> Result<(), String> {
	let (sum, issuance) = balances();
	if sum != issuance {
		return Err(format!(
			"the accounts hold {sum} in all but the total issuance is {issuance} (off by {})",
			issuance as i128 - sum as i128
		));
	}
	Ok(())
}

/// Each agent's `collateral` and `open_work` against the work that holds them: its assignments
/// (`AssignedTasks`, each reserving its task's `collateral`), its jury seats (`JurorDuties`, each
/// its dispute's `juror_collateral`) and its attestations (each its own `collateral`). Stake left
/// reserved with no work behind it stays held until the agent leaves; work without its
/// reservation can be slashed from stake promised to other work.
fn reservations_add_up() -> Result<(), String> {
	use std::collections::BTreeMap;
	let mut work: BTreeMap<AccountId, (u32, Balance)> = BTreeMap::new();
	let mut add = |who: AccountId, collateral: Balance| {
		let entry = work.entry(who).or_default();
		entry.0 += 1;
		entry.1 += collateral;
	};
	for (executor, id, ()) in pallet_inference::AssignedTasks::<Runtime>::iter() {
		let task = pallet_inference::Tasks::<Runtime>::get(id)
			.ok_or_else(|| format!("{executor} is assigned task {id}, which does not exist"))?;
		add(executor, task.collateral);
	}
	for (juror, task, ()) in pallet_challenges::JurorDuties::<Runtime>::iter() {
		let dispute = pallet_challenges::Disputes::<Runtime>::get(task).ok_or_else(|| {
			format!("{juror} sits on the jury of task {task}, which has no dispute")
		})?;
		add(juror, dispute.juror_collateral);
	}
	for (_, (_, curator), attestation) in pallet_data_rewards::Attestations::<Runtime>::iter() {
		add(curator, attestation.collateral);
	}
	for (agent, info) in pallet_agents::Registry::<Runtime>::iter() {
		let (pieces, collateral) = work.remove(&agent).unwrap_or_default();
		if (info.open_work, info.collateral) != (pieces, collateral) {
			return Err(format!(
				"agent {agent} records {} pieces of open work reserving {}, but its assignments, \
				 jury seats and attestations are {pieces} reserving {collateral}",
				info.open_work, info.collateral
			));
		}
	}
	if let Some((who, (pieces, _))) = work.into_iter().next() {
		return Err(format!("{who} holds {pieces} pieces of work but is not a registered agent"));
	}
	Ok(())
}

/// Checks after an extrinsic was applied (`declared` is what it declared before dispatch).
pub fn after_extrinsic(declared: &DispatchInfo) -> Result<u64, String> {
	conserved()?;
	// What the extrinsic reported it weighed (the base weight of its class added) never exceeds
	// what it declared plus that base weight.
	let base = RuntimeBlockWeights::get().get(declared.class).base_extrinsic;
	let reported = System::events().into_iter().rev().find_map(|record| match record.event {
		RuntimeEvent::System(frame_system::Event::ExtrinsicSuccess { dispatch_info })
		| RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { dispatch_info, .. }) => {
			Some(dispatch_info.weight)
		},
		_ => None,
	});
	match reported {
		Some(weight) if weight.any_gt(declared.total_weight().saturating_add(base)) => {
			Err(format!(
			"an extrinsic reported weighing {weight:?}, more than it declared ({:?} + base {base:?})",
			declared.total_weight()
		))
		},
		Some(_) => Ok(2),
		None => {
			Err("an applied extrinsic left no ExtrinsicSuccess or ExtrinsicFailed event".into())
		},
	}
}

/// The accounts that may be minted into: the data-rewards pot (its epoch emission).
fn may_be_minted_into(who: &AccountId) -> bool {
	*who == pallet_data_rewards::Pallet::<Runtime>::account_id()
}

/// Checks after a block was finalized; `issuance_before` is the total issuance when it started.
pub fn after_block(issuance_before: Balance) -> Result<u64, String> {
	let mut checks = 0;
	let number = System::block_number();
	// Built with try-runtime (the long run): every pallet's try_state, FRAME's own included.
	#[cfg(feature = "try-runtime")]
	{
		use frame_support::traits::{TryState, TryStateSelect};
		<agentchain_runtime::AllPalletsWithSystem as TryState<_>>::try_state(
			number,
			TryStateSelect::All,
		)
		.map_err(|e| {
			// Which pallet and check failed is logged, not returned.
			format!("a pallet's try_state failed: {e:?}: {}", crate::logs::take().join(" | "))
		})?;
		checks += 1;
	}
	// Otherwise the AgentChain pallets' checks, which they compile in natively.
	#[cfg(not(feature = "try-runtime"))]
	{
		type Check = fn() -> Result<(), sp_runtime::TryRuntimeError>;
		let pallets: [(&str, Check); 4] = [
			("agents", pallet_agents::Pallet::<Runtime>::do_try_state),
			("inference", pallet_inference::Pallet::<Runtime>::do_try_state),
			("challenges", pallet_challenges::Pallet::<Runtime>::do_try_state),
			("data-rewards", pallet_data_rewards::Pallet::<Runtime>::do_try_state),
		];
		for (name, check) in pallets {
			check().map_err(|e| format!("the {name} pallet's try_state failed: {e:?}"))?;
			checks += 1;
		}
	}

	reservations_add_up()?;
	checks += 1;

	conserved()?;
	checks += 1;

	let (mut created, mut destroyed) = (0u128, 0u128);
	let mut seen = Vec::new();
	for record in System::events() {
		if let RuntimeEvent::Balances(event) = record.event {
			use pallet_balances::Event as E;
			seen.push(format!("{event:?}"));
			match event {
				E::Minted { who, amount } => {
					if !may_be_minted_into(&who) {
						return Err(format!("{amount} was minted into {who}"));
					}
					created += amount;
				},
				E::Issued { amount } | E::MintedCredit { amount } => created += amount,
				// Dust of a reaped account is reported twice: `DustLost`, then `BurnedDebt` as the
				// dropped credit lowers the issuance.
				E::Burned { amount, .. }
				| E::BurnedHeld { amount, .. }
				| E::Rescinded { amount }
				| E::BurnedDebt { amount } => destroyed += amount,
				E::TotalIssuanceForced { old, new } => {
					return Err(format!("the total issuance was forced from {old} to {new}"))
				},
				_ => {},
			}
		}
	}
	let issuance = pallet_balances::TotalIssuance::<Runtime>::get();
	let expected = (issuance_before + created).checked_sub(destroyed);
	if expected != Some(issuance) {
		return Err(format!(
			"block #{number}: the total issuance went from {issuance_before} to {issuance}, but \
			 the events account for {created} created and {destroyed} destroyed: {}",
			seen.join(", ")
		));
	}
	Ok(checks + 1)
}
