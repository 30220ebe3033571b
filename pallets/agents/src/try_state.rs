//! The pallet's invariants, checked by `try_state` and after every unit test.

use super::*;

impl<T: Config> Pallet<T> {
	/// Checks the pallet's invariants (used by `try_state`, and by tests after every test).
	#[cfg(any(feature = "try-runtime", feature = "std"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut agents = 0u32;
		for (owner, info) in Registry::<T>::iter() {
			agents = agents.saturating_add(1);
			let held = T::Currency::balance_on_hold(&HoldReason::AgentStake.into(), &owner);
			ensure!(held == info.total_held(), "stake held differs from recorded stake");
			ensure!(!info.roles.is_empty(), "an agent has no role");
			ensure!(info.roles.windows(2).all(|p| p[0] < p[1]), "roles not sorted and unique");
			ensure!(info.models.windows(2).all(|p| p[0] < p[1]), "models not sorted and unique");
			ensure!(
				info.unbonding.windows(2).all(|p| p[0].unlock_at <= p[1].unlock_at),
				"unbonding chunks out of order"
			);
			if let Some(operator) = &info.operator {
				ensure!(
					Operators::<T>::get(operator).as_ref() == Some(&owner),
					"an agent's operator does not map back to it"
				);
			}
			if info.status == AgentStatus::Leaving {
				ensure!(info.stake.is_zero(), "a leaving agent has bonded stake");
				ensure!(info.collateral.is_zero(), "a leaving agent has collateral reserved");
			}
			ensure!(info.collateral <= info.stake, "collateral exceeds the bonded stake");
			ensure!(
				info.collateral.is_zero() || info.open_work > 0,
				"collateral reserved without open work"
			);
			ensure!(
				info.batch_blocks == 0 || info.open_work > 0,
				"batch work counted without open work"
			);
			ensure!(
				agentchain_primitives::agents::is_valid_batch_speed(info.batch_speed),
				"a batch speed out of bounds"
			);
		}
		ensure!(agents == AgentCount::<T>::get(), "AgentCount differs from the number of agents");
		for (operator, owner) in Operators::<T>::iter() {
			let info = Registry::<T>::get(&owner).ok_or("an operator maps to no agent")?;
			ensure!(info.operator.as_ref() == Some(&operator), "operator maps to another agent");
		}
		let now = frame_system::Pallet::<T>::block_number();
		for (role, model, set) in Candidates::<T>::iter() {
			ensure!(!set.is_empty(), "an empty candidate set is stored");
			for (i, Candidate { agent: member, weight }) in set.iter().enumerate() {
				ensure!(!set.iter().skip(i + 1).any(|m| &m.agent == member), "duplicate candidate");
				let info = Registry::<T>::get(member).ok_or("a candidate is not registered")?;
				ensure!(
					info.status != AgentStatus::Active
						|| Self::is_silent(&info, now)
						|| *weight >= info.stake,
					"a live active candidate's seat weighs less than its stake"
				);
				ensure!(
					info.has_role(role) && info.serves(&model),
					"a candidate lacks the set's role or model"
				);
				ensure!(info.status != AgentStatus::Leaving, "a leaving agent is a candidate");
			}
		}
		Ok(())
	}
}
