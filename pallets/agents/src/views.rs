//! The agent registry as clients see it: what the `AgentsApi` runtime API returns.

use crate::{AgentInfo, Candidates, Config, Operators, Pallet, Registry};
use agentchain_primitives::{
	agents::Role,
	api::{AgentView, MAX_AGENTS_PER_ANSWER},
	ModelId,
};
use alloc::{string::String, vec::Vec};
use sp_runtime::SaturatedConversion;

impl<T: Config> Pallet<T> {
	/// The agent owned by `who`, or the agent whose operator key `who` is.
	pub fn agent_view(who: &T::AccountId) -> Option<AgentView<T::AccountId>> {
		let owner = Operators::<T>::get(who).unwrap_or_else(|| who.clone());
		Registry::<T>::get(&owner).map(|info| Self::view_of(owner, &info))
	}

	/// The selectable agents serving `model` in a model-specific `role`, from its candidate set.
	pub fn agents_serving(model: &ModelId, role: Role) -> Vec<AgentView<T::AccountId>> {
		if !role.is_model_specific() {
			return Vec::new();
		}
		let now = frame_system::Pallet::<T>::block_number();
		Candidates::<T>::get(role, model)
			.into_iter()
			.filter_map(|crate::Candidate { agent: owner, .. }| {
				let info = Registry::<T>::get(&owner)?;
				Self::is_eligible(&info, role, now).then(|| Self::view_of(owner, &info))
			})
			.take(MAX_AGENTS_PER_ANSWER as usize)
			.collect()
	}

	fn view_of(owner: T::AccountId, info: &AgentInfo<T>) -> AgentView<T::AccountId> {
		let now = frame_system::Pallet::<T>::block_number();
		let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
		// Eligible, and for a model-specific role seated in a candidate set (an agent evicted
		// while paused or silent is not selected until it rejoins).
		let selectable = info.roles.iter().any(|role| {
			Self::is_eligible(info, *role, now)
				&& (!role.is_model_specific()
					|| info.models.iter().any(|model| Self::is_candidate(&owner, *role, model)))
		});
		AgentView {
			owner,
			operator: info.operator.clone(),
			name: text(&info.metadata.name),
			endpoint: text(&info.metadata.endpoint),
			version: text(&info.metadata.version),
			models: info.models.to_vec(),
			roles: info.roles.to_vec(),
			stake: info.stake.saturated_into(),
			unbonding: info.unbonding_total().saturated_into(),
			collateral: info.collateral.saturated_into(),
			status: info.status,
			selectable,
			registered_at: info.registered_at.saturated_into(),
			last_seen: info.last_seen.saturated_into(),
			open_work: info.open_work,
			batch_blocks: info.batch_blocks,
			batch_speed: info.batch_speed,
			reputation: info.reputation,
		}
	}
}
