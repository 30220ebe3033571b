//! Tasks as clients see them: what the `InferenceApi` runtime API returns.

use crate::{
	AgentRegistry, AssignedTasks, Config, OutputUris, Outputs, Pallet, TaskId, TaskInput, Tasks,
};
use agentchain_primitives::api::{
	AssignmentView, OutputView, TaskInputView, TaskPage, TaskView, MAX_TASKS_PER_PAGE,
};
use alloc::{string::String, vec::Vec};
use sp_runtime::SaturatedConversion;

impl<T: Config> Pallet<T> {
	/// A task with its assignments and revealed outputs.
	pub fn task_view(id: TaskId) -> Option<TaskView<T::AccountId>> {
		let task = Tasks::<T>::get(id)?;
		let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
		Some(TaskView {
			id,
			requester: task.requester.clone(),
			model: task.model,
			input: match &task.input {
				TaskInput::Inline(bytes) => TaskInputView::Inline(text(bytes)),
				TaskInput::Reference { hash, uri } => {
					TaskInputView::Reference { hash: *hash, uri: text(uri) }
				},
				TaskInput::Batch { root, uri, items, .. } => {
					TaskInputView::Batch { root: *root, uri: text(uri), items: *items }
				},
			},
			max_tokens: task.params.max_tokens,
			temperature_milli: task.params.temperature_milli,
			seed: task.params.seed,
			mode: task.params.mode,
			fee: task.fee.saturated_into(),
			escrow: task.escrow.saturated_into(),
			redundancy: task.redundancy,
			status: task.status,
			phase_ends: task.phase_ends.saturated_into(),
			submitted_at: task.submitted_at.saturated_into(),
			reassignments: task.reassignments,
			assignments: task
				.assignments
				.iter()
				.map(|a| AssignmentView {
					executor: a.executor.clone(),
					committed: a.commitment.is_some(),
					output: a.output,
					outputs_uri: OutputUris::<T>::get(id, &a.executor).map(|uri| text(&uri)),
				})
				.collect(),
			result: task.result,
			// At most `MaxRedundancy` outputs per task.
			outputs: Outputs::<T>::iter_prefix(id)
				.map(|(hash, data)| OutputView {
					hash,
					text: data.inline.as_deref().map(|bytes| text(bytes)),
					uri: data.uri.as_deref().map(|bytes| text(bytes)),
				})
				.collect(),
		})
	}

	/// A page of the open tasks assigned to `executor` (an agent's owner account, or its
	/// operator key): at most `limit` (clamped between 1 and [`MAX_TASKS_PER_PAGE`]), after
	/// `start_after`. Reads the executor's prefix of
	/// [`AssignedTasks`] from `start_after` on, so its cost depends on the page size, not on the
	/// number of tasks on chain. Pages follow the index's storage order (by hashed task id).
	pub fn tasks_for(
		executor: &T::AccountId,
		start_after: Option<TaskId>,
		limit: u32,
	) -> TaskPage<T::AccountId> {
		let limit = limit.clamp(1, MAX_TASKS_PER_PAGE) as usize;
		// An operator key stands for its agent.
		let owner = T::AgentRegistry::agent_of(executor);
		let executor = owner.as_ref().unwrap_or(executor);
		let mut ids = match start_after {
			Some(after) => AssignedTasks::<T>::iter_key_prefix_from(
				executor,
				AssignedTasks::<T>::hashed_key_for(executor, after),
			),
			None => AssignedTasks::<T>::iter_key_prefix(executor),
		};
		let mut tasks = Vec::new();
		let mut last = None;
		for id in ids.by_ref().take(limit) {
			last = Some(id);
			tasks.extend(Self::task_view(id));
		}
		TaskPage { tasks, next: if ids.next().is_some() { last } else { None } }
	}
}
