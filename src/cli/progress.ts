// Training progress on stderr: on a terminal one bar redrawn in place (at most 10 times a second)
// with the epoch, loss and val_loss; otherwise (a pipe, a log file, CI) one plain line per epoch.

const BAR = 24;
const REDRAW_MS = 100;

export class Progress {
  private readonly tty: boolean;
  private lastDraw = 0;
  private epoch = 0;
  private last = "";

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly epochs: number,
    private readonly batches: number,
  ) {
    this.tty = out.isTTY === true;
  }

  /** After each batch: redraw the bar on a terminal; nothing otherwise. */
  batch(batch: number, loss: number): void {
    if (!this.tty) return;
    const now = performance.now();
    if (now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.draw((this.epoch * this.batches + batch + 1) / (this.epochs * this.batches), this.epoch + 1, `batch loss ${loss.toFixed(4)}${this.last}`);
  }

  epochEnd(epoch: number, loss: number, valLoss: number | undefined, ms: number): void {
    this.epoch = epoch + 1;
    const v = valLoss === undefined ? "" : ` val_loss ${valLoss.toFixed(4)}`;
    if (this.tty) {
      this.last = v && ` |${v}`;
      this.lastDraw = performance.now();
      this.draw(this.epoch / this.epochs, this.epoch, `loss ${loss.toFixed(4)}${v}`);
    } else {
      this.out.write(`epoch ${epoch + 1}/${this.epochs} loss ${loss.toFixed(4)}${v} ${ms.toFixed(0)}ms\n`);
    }
  }

  /** End the bar's line so later output starts on a fresh one. */
  finish(): void {
    if (this.tty && this.lastDraw > 0) this.out.write("\n");
  }

  /** `epoch` is 1-based: the one in progress, or the one just finished. */
  private draw(fraction: number, epoch: number, text: string): void {
    const filled = Math.round(Math.min(1, fraction) * BAR);
    const bar = "#".repeat(filled) + ".".repeat(BAR - filled);
    this.out.write(`\r\x1b[2K[${bar}] ${String(Math.floor(fraction * 100)).padStart(3)}% epoch ${epoch}/${this.epochs} ${text}`);
  }
}
