/**
 * Where queue partitions live on a Redis Cluster. Redis maps a key to one of 16384 slots by
 * the CRC16 of its hash tag, and a cluster gives each master a range of slots. Left to CRC16,
 * `{q:push-events:0}`, `…:1` and `…:2` fall on two of three masters, so every partition tag
 * carries a salt chosen to land it on a planned slot instead.
 */

export const SLOT_COUNT = 16384;

// CRC16-CCITT (XMODEM), the function of the Redis Cluster specification.
const CRC_TABLE = Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  return crc;
});

function crc16(bytes: Uint8Array, crc = 0): number {
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc;
}

const utf8 = new TextEncoder();

/** The slot of a key, honouring its hash tag (the first non-empty `{...}`), as CLUSTER KEYSLOT does. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1;
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  return crc16(utf8.encode(hashed)) % SLOT_COUNT;
}

const GOLDEN = (Math.sqrt(5) - 1) / 2;

/**
 * The slot planned for queue partition `partition`: the golden-ratio sequence, offset by
 * half a step. The first n partitions spread nearly evenly over any number of masters with
 * equal slot ranges (3 partitions on 3 masters: one each; 6 on 3 or 6: even), and adding
 * partitions never moves the existing ones.
 */
export function partitionSlot(partition: number): number {
  return Math.floor((((partition + 0.5) * GOLDEN) % 1) * SLOT_COUNT);
}

const tags = new Map<string, string>();

/** `<base>:<salt>` with the shortest base-36 salt whose slot is `slot` (about 16k tries, once). */
export function tagInSlot(base: string, slot: number): string {
  const cacheKey = `${base}\n${slot}`;
  let tag = tags.get(cacheKey);
  if (tag === undefined) {
    const prefix = crc16(utf8.encode(`${base}:`));
    for (let salt = 0; ; salt++) {
      const text = salt.toString(36);
      let crc = prefix;
      // The salt is ASCII: its UTF-8 bytes are its char codes.
      for (let i = 0; i < text.length; i++) {
        crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >> 8) ^ text.charCodeAt(i)) & 0xff]!;
      }
      if (crc % SLOT_COUNT === slot) {
        tag = `${base}:${text}`;
        break;
      }
    }
    tags.set(cacheKey, tag);
  }
  return tag;
}
