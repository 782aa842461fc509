// Training progress for the demo. Not a terminal (a pipe, a file, CI): one line per epoch as Keras
// verbose=2 prints it. A terminal: one live line redrawn in place with a bar, the latest losses and
// the time left. Hand-written (about 40 lines) rather than a package: all it needs is "\r", an
// erase-line escape and the terminal width, and this way both paths are ours to test.

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface EpochLogs {
  loss: number;
  val_loss?: number;
}

export interface Progress {
  /** Epoch `epoch` (0-based) ended after `ms` milliseconds with these losses. */
  epochEnd(epoch: number, logs: EpochLogs, ms: number): void;
  /** Training ended; `stoppedEpoch` (0-based) when early stopping ended it. */
  done(stoppedEpoch?: number): void;
}

const BAR_WIDTH = 30;
const ERASE_LINE = "\r\x1b[2K";

function losses(logs: EpochLogs): string {
  const v = logs.val_loss === undefined ? "" : ` - val_loss: ${logs.val_loss.toFixed(4)}`;
  return `loss: ${logs.loss.toFixed(4)}${v}`;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

export function createProgress(stream: ProgressStream, epochs: number): Progress {
  const live = stream.isTTY === true;
  let elapsed = 0;
  let drawn = false;
  return {
    epochEnd(epoch, logs, ms) {
      elapsed += ms;
      const n = epoch + 1;
      if (!live) {
        stream.write(`Epoch ${n}/${epochs} - ${seconds(ms)} - ${losses(logs)}\n`);
        return;
      }
      const filled = Math.round((BAR_WIDTH * n) / epochs);
      const bar = "=".repeat(Math.max(filled - 1, 0)) + (filled > 0 ? (n === epochs ? "=" : ">") : "") + ".".repeat(BAR_WIDTH - filled);
      const eta = (elapsed / n) * (epochs - n);
      const line = `Epoch ${String(n).padStart(String(epochs).length)}/${epochs} [${bar}] ${losses(logs)} - ${seconds(elapsed)}, ETA ${seconds(eta)}`;
      // Never wider than the terminal, or the redraw would wrap and scroll.
      const width = stream.columns && stream.columns > 1 ? stream.columns - 1 : line.length;
      stream.write(ERASE_LINE + line.slice(0, width));
      drawn = true;
    },
    done(stoppedEpoch) {
      if (drawn) stream.write("\n");
      if (stoppedEpoch !== undefined) stream.write(`Epoch ${stoppedEpoch + 1}: early stopping\n`);
    },
  };
}
