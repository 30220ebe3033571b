// AgentChain's own transaction extension, for `ApiPromise.create({ provider, signedExtensions })`
// of @polkadot/api:
//
//   import { signedExtensions } from './clients/polkadot-js/extensions.mjs';
//   const api = await ApiPromise.create({ provider: new WsProvider(url), signedExtensions });
//
// Nothing else needs a definition: calls, storage, events, errors, constants and the runtime APIs
// (`api.call.agentsApi.agent(who)`, `api.call.inferenceApi.task(id)`, …) come from the runtime
// metadata.

/**
 * `PrioritizeDuties` (see docs/liveness.md): it adds nothing to a transaction or to what is
 * signed. Declaring it spares polkadot.js's warning about an unknown extension.
 */
export const signedExtensions = {
  PrioritizeDuties: { extrinsic: {}, payload: {} },
};

export default signedExtensions;
