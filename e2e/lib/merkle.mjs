// The Merkle commitment of batches, as the chain computes it (execution/src/merkle.rs): leaf i =
// blake2_256(0x00 ‖ i as u32 LE ‖ item hash), node = blake2_256(0x01 ‖ left ‖ right), a level of
// odd width promotes its last node, root = blake2_256(0x02 ‖ N as u32 LE ‖ top). An item's hash is
// the blake2-256 of its UTF-8 bytes, as a single task's input and output are hashed.
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsU8a } from '@polkadot/util-crypto';

const u32le = (n) => {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, n, true);
  return bytes;
};
const blake = (...parts) => blake2AsU8a(u8aConcat(...parts), 256);

/** The hash of an item (an input or an output): the blake2-256 of its UTF-8 bytes. */
export const itemHash = (text) => blake2AsU8a(stringToU8a(text), 256);

/** The root (hex) of the items whose hashes are `hashes`. */
export function merkleRoot(hashes) {
  let level = hashes.map((hash, i) => blake(new Uint8Array([0]), u32le(i), hash));
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(i + 1 < level.length ? blake(new Uint8Array([1]), level[i], level[i + 1]) : level[i]);
    }
    level = next;
  }
  return u8aToHex(blake(new Uint8Array([2]), u32le(hashes.length), level[0]));
}
