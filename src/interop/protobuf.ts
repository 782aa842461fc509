// A protocol-buffers writer for the handful of messages an ONNX model needs (src/interop/onnx.ts),
// so that exporting adds no runtime dependency. Only what ONNX's proto2 schema uses here: varint
// fields (int32, int64, enum), length-delimited fields (strings, bytes, nested messages) and
// fixed32 floats. Repeated scalars are written unpacked, one tag per value, which every
// protobuf parser must accept for proto2 fields.
//
// Wire format (protobuf encoding guide): a field is a varint key (field number << 3 | wire type)
// followed by its value; varints are little-endian base-128; a negative int64 is the varint of its
// 64-bit two's complement (ten bytes).

const VARINT = 0;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

const utf8 = new TextEncoder();

export class ProtoWriter {
  private buf = new Uint8Array(64);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(2 * this.buf.length, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private varint(v: number): void {
    this.reserve(10);
    if (v < 0) {
      let b = BigInt.asUintN(64, BigInt(v));
      while (b >= 0x80n) {
        this.buf[this.len++] = Number(b & 0x7fn) | 0x80;
        b >>= 7n;
      }
      this.buf[this.len++] = Number(b);
      return;
    }
    // Division, not shifts: values up to 2^53 stay exact where 32-bit shifts would wrap.
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  private key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** An int32, int64 or enum field (integers only, |v| < 2^53). */
  int(field: number, v: number): this {
    this.key(field, VARINT);
    this.varint(v);
    return this;
  }

  /** A repeated int64 field, one entry per value. */
  ints(field: number, vs: readonly number[]): this {
    for (const v of vs) this.int(field, v);
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, FIXED32);
    this.reserve(4);
    new DataView(this.buf.buffer).setFloat32(this.len, v, true);
    this.len += 4;
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, LENGTH_DELIMITED);
    this.varint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  /** A nested message, built by `fill` on a writer of its own. */
  message(field: number, fill: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    fill(w);
    return this.bytes(field, w.finish());
  }

  /** The bytes written so far (a copy the caller owns). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
