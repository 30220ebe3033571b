//! Disputes as clients see them: what the `ChallengesApi` runtime API returns.

use crate::{AgentRegistry, Claim, Config, Disputes, JurorDuties, Pallet, TaskId};
use agentchain_primitives::api::{
	BondView, DisputeView, DutiesView, JurorView, MAX_DUTIES_PER_ANSWER,
};
use sp_runtime::SaturatedConversion;

impl<T: Config> Pallet<T> {
	/// The open dispute over `task`.
	pub fn dispute_view(task: TaskId) -> Option<DisputeView<T::AccountId>> {
		let dispute = Disputes::<T>::get(task)?;
		Some(DisputeView {
			task,
			kind: dispute.kind.clone(),
			model: dispute.model,
			mode: dispute.mode,
			result: dispute.result,
			revealed: dispute.revealed.to_vec(),
			round: dispute.round,
			phase: dispute.phase,
			phase_ends: dispute.phase_ends.saturated_into(),
			jurors: dispute
				.jury
				.iter()
				.map(|seat| JurorView {
					juror: seat.juror.clone(),
					committed: seat.commitment.is_some(),
					vote: seat.vote,
				})
				.collect(),
			verdict: dispute.verdict,
			bonds: dispute
				.bonds
				.iter()
				.map(|bond| BondView {
					who: bond.who.clone(),
					amount: bond.amount.saturated_into(),
					backs_output: match bond.claim {
						Claim::ResultWrong => None,
						Claim::OutputRight(output) => Some(output),
					},
				})
				.collect(),
		})
	}

	/// The disputes the agent of `who` sits on in their current round.
	pub fn duties_view(who: &T::AccountId) -> Option<DutiesView<T::AccountId>> {
		let juror = T::AgentRegistry::agent_of(who)?;
		let tasks = JurorDuties::<T>::iter_key_prefix(&juror)
			.take(MAX_DUTIES_PER_ANSWER as usize)
			.collect();
		Some(DutiesView { juror, tasks })
	}
}
