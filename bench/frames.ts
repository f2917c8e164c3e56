/** Length-prefixed buffers in one file: how serialized CheckRequests reach the load client. */
export function writeFrames(messages: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const message of messages) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(message.length);
    parts.push(length, message);
  }
  return Buffer.concat(parts);
}

export function readFrames(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  while (offset + 4 <= data.length) {
    const length = data.readUInt32BE(offset);
    out.push(data.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return out;
}
