// ARI and NMI against values computed by hand (scikit-learn's definitions; sklearn is not
// installable here, so each expected value is derived in the comment next to it).
import { describe, expect, it } from "vitest";
import { adjustedRandScore as ari, normalizedMutualInfoScore as nmi } from "../src/mixture/metrics.js";
import { MdnError } from "../src/core/errors.js";

/** Labels realising a contingency table: row i = true class i, column j = predicted cluster j. */
function fromTable(table: number[][]): { t: number[]; p: number[] } {
  const t: number[] = [];
  const p: number[] = [];
  table.forEach((row, i) => row.forEach((count, j) => {
    for (let c = 0; c < count; c++) {
      t.push(i);
      p.push(j);
    }
  }));
  return { t, p };
}

describe("adjustedRandScore and normalizedMutualInfoScore", () => {
  it("identical labelings score 1", () => {
    const l = [0, 0, 1, 1, 2, 2, 2];
    expect(ari(l, l)).toBe(1);
    expect(nmi(l, l)).toBeCloseTo(1, 14);
  });

  it("are invariant to renaming the clusters", () => {
    const t = [0, 0, 1, 1, 2, 2];
    const p = [5, 5, 9, 9, 1, 1];
    expect(ari(t, p)).toBe(1);
    expect(nmi(t, p)).toBeCloseTo(1, 14);
    expect(ari(["a", "a", "b"], [1, 1, 0])).toBe(1);
  });

  it("one cluster on both sides scores 1; one predicted cluster against two classes scores 0", () => {
    expect(ari([0, 0, 0, 0], [3, 3, 3, 3])).toBe(1);
    expect(nmi([0, 0, 0, 0], [3, 3, 3, 3])).toBe(1);
    // Contingency [[2],[2]]: sum n_ij^2 = 8, tp = 4, fp = 8, fn = 0, tn = 0: 2 (tp tn - fn fp) = 0.
    expect(ari([0, 0, 1, 1], [7, 7, 7, 7])).toBe(0);
    expect(nmi([0, 0, 1, 1], [7, 7, 7, 7])).toBe(0);
  });

  it("all-distinct predictions against two classes: ARI 0, NMI 2/3", () => {
    expect(ari([0, 1, 2, 3], [3, 2, 1, 0])).toBe(1);
    // Contingency [[1,1,0,0],[0,0,1,1]]: sum n_ij^2 = 4, tp = 0, fp = 0, fn = 4, tn = 8 -> ARI 0.
    expect(ari([0, 0, 1, 1], [0, 1, 2, 3])).toBe(0);
    // MI = log 2, H(true) = log 2, H(pred) = log 4: NMI = log2 / (1.5 log2) = 2/3.
    expect(nmi([0, 0, 1, 1], [0, 1, 2, 3])).toBeCloseTo(2 / 3, 14);
  });

  it("an uneven 3x4 contingency table", () => {
    // [[3,1,0,0],[0,2,2,1],[1,0,0,3]], n = 13, row sums 4,5,4, column sums 4,3,2,4.
    // sum C(n_ij,2) = 3+1+1+3 = 8; sum C(a_i,2) = 22; sum C(b_j,2) = 16; C(13,2) = 78.
    // ARI = (8 - 22*16/78) / ((22+16)/2 - 22*16/78) = 272/1130.
    // MI = sum n_ij/n log(n n_ij / (a_i b_j)) = 0.5998902718488804,
    // H(true) = 1.0928305535284886, H(pred) = 1.3516811946858949 -> NMI = 0.49080579979791544.
    const { t, p } = fromTable([[3, 1, 0, 0], [0, 2, 2, 1], [1, 0, 0, 3]]);
    expect(ari(t, p)).toBeCloseTo(272 / 1130, 14);
    expect(nmi(t, p)).toBeCloseTo(0.49080579979791544, 14);
    // Both scores are symmetric in their arguments.
    expect(ari(p, t)).toBeCloseTo(272 / 1130, 14);
    expect(nmi(p, t)).toBeCloseTo(0.49080579979791544, 14);
  });

  it("accepts typed arrays and rejects mismatched lengths with a typed error", () => {
    expect(ari(new Int32Array([0, 0, 1]), new Float32Array([1, 1, 0]))).toBe(1);
    expect(() => ari([0, 1], [0])).toThrow(MdnError);
    try {
      nmi([0, 1, 2], [0, 1]);
    } catch (e) {
      expect((e as MdnError).code).toBe("ROW_COUNT_MISMATCH");
      expect((e as MdnError).message).toContain("labelsPred");
    }
  });
});
