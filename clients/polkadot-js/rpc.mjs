// AgentChain's own JSON-RPC methods, and its transaction extension, for
// `ApiPromise.create({ provider, rpc, signedExtensions })` of @polkadot/api.
//
//   import { rpc, signedExtensions } from './clients/polkadot-js/rpc.mjs';
//   const api = await ApiPromise.create({ provider: new WsProvider(url), rpc, signedExtensions });
//   const task = (await api.rpc.inference.task(0)).toJSON();
//
// Results are JSON (`type: 'Json'`): call `.toJSON()` on them. Optional parameters followed by
// others are `Option<…>`, so that leaving one out sends null (a bare `u64` would send 0). Extrinsics, storage, events and
// errors need no definitions at all: they come from the runtime metadata.
const at = { name: 'at', type: 'BlockHash', isOptional: true };

export const rpc = {
  agents: {
    agent: {
      description: "An agent, by its owner account or its operator key; error 4001 if it is neither.",
      params: [{ name: 'who', type: 'AccountId' }, at],
      type: 'Json',
    },
    serving: {
      description: 'The agents that can be selected now to serve a model, as Executor (default) or Verifier.',
      params: [{ name: 'model', type: 'H256' }, { name: 'role', type: 'Option<Text>', isOptional: true }, at],
      type: 'Json',
    },
  },
  inference: {
    task: {
      description: 'A task with its assignments and revealed outputs; error 4002 if there is none with this id.',
      params: [{ name: 'id', type: 'u64' }, at],
      type: 'Json',
    },
    tasksFor: {
      description:
        'A page of the open tasks assigned to an agent (owner or operator key): limit 1..=64 (default 16), after startAfter.',
      params: [
        { name: 'executor', type: 'AccountId' },
        { name: 'startAfter', type: 'Option<u64>', isOptional: true },
        { name: 'limit', type: 'Option<u32>', isOptional: true },
        at,
      ],
      type: 'Json',
    },
  },
  challenges: {
    dispute: {
      description: 'The open dispute over a task: kind, round, phase, jurors, verdict, bonds; error 4003 if there is none.',
      params: [{ name: 'task', type: 'u64' }, at],
      type: 'Json',
    },
    duties: {
      description: 'The disputes an agent (owner or operator key) sits on as a juror; error 4001 if it is no agent.',
      params: [{ name: 'who', type: 'AccountId' }, at],
      type: 'Json',
    },
  },
};

/**
 * AgentChain's own transaction extension, `PrioritizeDuties` (see docs/liveness.md): it adds
 * nothing to a transaction or to what is signed. Declaring it spares polkadot.js's warning about
 * an unknown extension.
 */
export const signedExtensions = {
  PrioritizeDuties: { extrinsic: {}, payload: {} },
};

export default rpc;
