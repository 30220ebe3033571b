// What the end-to-end tests of batches share to judge an item as a jury of verifiers signing from
// polkadot.js, and to steer and ask the reference inference server as an agent node does.
import assert from 'node:assert/strict';
import { blake2AsHex } from '@polkadot/util-crypto';
import { sendInBlock } from './node.mjs';
import { sleep } from './flood.mjs';

export const UNIT = 10n ** 12n;
/** The reference server's model the batch tests run. */
export const MODEL_NAME = 'ngram-en';
export const MODEL = blake2AsHex(MODEL_NAME, 256);
/** What each verifier of the batch tests stakes. */
export const VERIFIER_STAKE = 100n * UNIT;

export const max = (...values) => values.reduce((a, b) => (b > a ? b : a));
export const min = (...values) => values.reduce((a, b) => (b < a ? b : a));
/** Perbill::mul_floor. */
export const perbillOf = (perbill, amount) => (amount * BigInt(perbill.toNumber())) / 1_000_000_000n;

/**
 * What a root found wrong on one item of `items` loses, for a fee share of `share`:
 * max(2 × JurySize × JurorReward, SlashFeeMultiple × share / items), `consts` the runtime's.
 */
export function itemSlashOf(consts, share, items) {
  const { jurorReward, jurySize, slashFeeMultiple } = consts.challenges;
  return max(
    2n * BigInt(jurySize.toNumber()) * jurorReward.toBigInt(),
    (share * BigInt(slashFeeMultiple.toNumber())) / items,
  );
}

/** PUT /admin/fault on `server`; resolves with the server's answer. */
export async function setFault(server, body) {
  const response = await fetch(`${server.url}/admin/fault`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, `PUT /admin/fault ${JSON.stringify(body)}`);
  return response.json();
}

/** `server`'s answer to `prompt` for `model`, asked exactly as an agent node asks for a batch item. */
export async function completion(server, model, params, prompt) {
  const response = await fetch(`${server.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({
      model,
      messages: [{ role: 'user', content: prompt }],
      max_tokens: params.maxTokens,
      temperature: params.temperatureMilli / 1000,
      seed: params.seed,
      stream: false,
    }),
  });
  assert.equal(response.status, 200);
  return (await response.json()).choices[0].message.content;
}

/** blake2_256(SCALE(task u64, round u32, vote H256, salt [u8; 32], juror)): a juror's commitment. */
export function voteCommitment(api, task, round, vote, salt, juror) {
  const encoded = api.createType('(u64, u32, H256, [u8; 32], AccountId32)', [task, round, vote, salt, juror]);
  return blake2AsHex(encoded.toU8a(), 256);
}

/**
 * Sends a juror's vote, `tx()` signed by `juror`, as soon as the pool takes it: a pool whose
 * view lags the block that seated the jury or opened the phase refuses it as no duty of the
 * juror's yet (`101`) or out of its phase (`102`), a flood's doing (docs/liveness.md), and the
 * juror's node would send it again, as this does.
 */
export async function sendVote(api, tx, juror) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sendInBlock(api, tx(), juror);
    } catch (error) {
      if (!/Custom error: 10[12]\b/.test(String(error)) || attempt >= 20) throw error;
      await sleep(500);
    }
  }
}
