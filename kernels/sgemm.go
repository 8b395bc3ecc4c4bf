package kernels

import (
	"fmt"
	"math/bits"
	"sync"
)

// sgemmKernel is one micro-kernel of the native sgemm: it adds the product
// of an mr×kc panel of A and a kc×nr panel of B (each packed, or read in
// place through its row stride) to an mr×nr tile of C, one fused
// multiply-add per k in k order for every element.
type sgemmKernel struct {
	name   string
	mr, nr int
	kc     int // k block: a kc×nr panel of B stays in L1
	// run reads A's mr rows with row stride lda and B's kc rows with row
	// stride ldb: A and B's own strides when read in place, kc and nr
	// when packed.
	run func(kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)
	// row is the same chain for one row of C (a matrix-vector product):
	// n columns, a multiple of rowWidth.
	row      func(k int, a, b *float32, ldb int, c *float32, n int)
	rowWidth int
	// rowT is row for a transposed B (output j reads B's row j).
	rowT func(k int, a, b *float32, ldb int, c *float32, n int)
}

// The native sgemm computes every element of C as one chain of fused
// multiply-adds over k in order, starting from beta·C, with alpha applied
// to A's elements first (A is packed whenever alpha ≠ 1):
//
//	c ← beta·c;  for p := 0..k-1: c ← fma(alpha·a[i,p], b[p,j], c)
//
// Blocking, tile sizes, vector width and the split of C over goroutines
// only decide which element is computed where, never how, so results are
// the same bits on every amd64 CPU with AVX2 and FMA (AVX-512 or not) and
// at every core count.
const (
	nativeMC = 384  // rows of A packed per block (an mc×kc block stays in L2)
	nativeNC = 4096 // columns of B packed per block
	// With at most this many rows of A, an untransposed B is read in place:
	// packing it would cost more than the few tiles that reuse it.
	nativeDirectB = 64
	// Products of at most this many rows (decoding one sequence) run row
	// by row on the matrix-vector kernel, not on tiles padded with zeros.
	nativeRows = 2
)

// packPools hold packing buffers by size class (capacity 2^i), so that a
// buffer taken for a product is the right size for the next one of its
// kind: the model's products repeat every step, allocating nothing.
var packPools [40]sync.Pool

type packBuf struct {
	s     []float32
	class int
}

func getPack(n int) *packBuf {
	class := bits.Len(uint(max(n, 1) - 1))
	if b, ok := packPools[class].Get().(*packBuf); ok {
		b.s = b.s[:n]
		return b
	}
	return &packBuf{s: make([]float32, n, 1<<class), class: class}
}

func putPack(b *packBuf) { packPools[b.class].Put(b) }

// nativeSgemm is the row-major C = alpha·op(A)·op(B) + beta·C of the
// contract, on micro-kernel kern.
func nativeSgemm(kern sgemmKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !checkGemm("native.Sgemm", transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		return
	}
	switch beta {
	case 1:
	case 0:
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
	default:
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] *= beta
			}
		}
	}
	if k == 0 || alpha == 0 {
		return
	}
	if m <= nativeRows {
		nativeRowsGemm(kern, transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc)
		return
	}
	mr, nr, kcMax := kern.mr, kern.nr, kern.kc
	mc := nativeMC / mr * mr
	nc := nativeNC / nr * nr
	bufA := getPack(mc * kcMax)
	bufB := getPack(min(nc, (n+nr-1)/nr*nr) * kcMax)
	// The edge tile's scratch comes from a pool too: passed to a kernel
	// through a func value, a local array would escape to the heap.
	tileBuf := getPack(mr * nr)
	defer putPack(bufA)
	defer putPack(bufB)
	defer putPack(tileBuf)
	// A is read in place unless it is transposed or scaled; then, and for
	// a last panel of fewer than mr rows, it is packed.
	packAll := transA || alpha != 1
	direct := !transB && m <= nativeDirectB // B read in place
	for jc := 0; jc < n; jc += nc {
		ncb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kcMax {
			kc := min(kcMax, k-pc)
			var bp []float32
			if !direct {
				bp = packB(bufB.s, transB, b, ldb, pc, kc, jc, ncb, nr)
			}
			for ic := 0; ic < m; ic += mc {
				mcb := min(mc, m-ic)
				var ap []float32
				full := mcb / mr * mr // rows in whole panels
				switch {
				case packAll:
					ap = packA(bufA.s, transA, a, lda, alpha, ic, mcb, pc, kc, mr)
				case full < mcb:
					ap = packA(bufA.s, false, a, lda, 1, ic+full, mcb-full, pc, kc, mr)
				}
				for jr := 0; jr < ncb; jr += nr {
					cols := min(nr, ncb-jr)
					var bpan []float32
					bstride := nr
					switch {
					case !direct:
						bpan = bp[jr*kc:]
					case cols == nr:
						bpan, bstride = b[pc*ldb+jc+jr:], ldb
					default: // a partial panel is packed alone
						bpan = packB(bufB.s, false, b, ldb, pc, kc, jc+jr, cols, nr)
					}
					for ir := 0; ir < mcb; ir += mr {
						var apan []float32
						astride := kc
						switch {
						case packAll:
							apan = ap[ir*kc:]
						case ir < full:
							apan, astride = a[(ic+ir)*lda+pc:], lda
						default:
							apan = ap
						}
						rows := min(mr, mcb-ir)
						ct := c[(ic+ir)*ldc+jc+jr:]
						if rows == mr && cols == nr {
							kern.run(kc, &apan[0], astride, &bpan[0], bstride, &ct[0], ldc)
							continue
						}
						// An edge tile goes through a full-size scratch tile.
						t := tileBuf.s
						for r := 0; r < mr; r++ {
							if r < rows {
								copy(t[r*nr:r*nr+cols], ct[r*ldc:r*ldc+cols])
								clear(t[r*nr+cols : (r+1)*nr])
							} else {
								clear(t[r*nr : (r+1)*nr])
							}
						}
						kern.run(kc, &apan[0], astride, &bpan[0], bstride, &t[0], nr)
						for r := 0; r < rows; r++ {
							copy(ct[r*ldc:r*ldc+cols], t[r*nr:r*nr+cols])
						}
					}
				}
			}
		}
	}
}

// nativeRowsGemm is C += alpha·op(A)·op(B) one row of C at a time, with
// the micro-kernels' per-element chain (beta is already applied).
func nativeRowsGemm(kern sgemmKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	w := kern.rowWidth
	av := getPack(k)
	defer putPack(av)
	var tail *packBuf // the last n%w columns, padded to w
	if n%w != 0 && !transB {
		tail = getPack(k * w)
		defer putPack(tail)
		packB(tail.s, false, b, ldb, 0, k, n/w*w, n%w, w)
	}
	ctBuf := getPack(w)
	defer putPack(ctBuf)
	for i := 0; i < m; i++ {
		x := packA(av.s, transA, a, lda, alpha, i, 1, 0, k, 1) // alpha·op(A)'s row i
		row := c[i*ldc : i*ldc+n]
		if transB {
			kern.rowT(k, &x[0], &b[0], ldb, &row[0], n)
			continue
		}
		full := n / w * w
		if full > 0 {
			kern.row(k, &x[0], &b[0], ldb, &row[0], full)
		}
		if full == n {
			continue
		}
		t := ctBuf.s
		copy(t, row[full:])
		clear(t[n-full:])
		kern.row(k, &x[0], &tail.s[0], w, &t[0], w)
		copy(row[full:], t[:n-full])
	}
}

// packA copies alpha·op(A)[ic:ic+mcb, pc:pc+kc] into panels of mr rows,
// each row-major (panel[r*kc+p]), rows past mcb zero.
func packA(buf []float32, trans bool, a []float32, lda int, alpha float32, ic, mcb, pc, kc, mr int) []float32 {
	panels := (mcb + mr - 1) / mr
	out := buf[:panels*mr*kc]
	for q := 0; q < panels; q++ {
		pan := out[q*mr*kc : (q+1)*mr*kc]
		i0 := ic + q*mr
		rows := min(mr, ic+mcb-i0)
		if trans {
			// op(A)'s row i is A's column i: rows contiguous elements of
			// each of A's rows pc+p, written down the panel's columns,
			// 8×8 blocks at a time where they fit.
			p8 := 0
			if hasTranspose8 && rows == mr && mr%8 == 0 {
				for ; p8+8 <= kc; p8 += 8 {
					for r0 := 0; r0 < mr; r0 += 8 {
						transpose8(&a[(pc+p8)*lda+i0+r0], lda, &pan[r0*kc+p8], kc)
					}
				}
			}
			for p := p8; p < kc; p++ {
				src := a[(pc+p)*lda+i0 : (pc+p)*lda+i0+rows]
				col := pan[p:]
				for r, v := range src {
					col[r*kc] = v
				}
			}
		} else {
			for r := 0; r < rows; r++ {
				copy(pan[r*kc:(r+1)*kc], a[(i0+r)*lda+pc:(i0+r)*lda+pc+kc])
			}
		}
		clear(pan[rows*kc:])
		if alpha != 1 {
			for i := range pan[:rows*kc] {
				pan[i] *= alpha
			}
		}
	}
	return out
}

// packB copies op(B)[pc:pc+kc, jc:jc+ncb] into panels of nr columns, each
// k-major (panel[p*nr+j]), columns past ncb zero.
func packB(buf []float32, trans bool, b []float32, ldb, pc, kc, jc, ncb, nr int) []float32 {
	panels := (ncb + nr - 1) / nr
	out := buf[:panels*nr*kc]
	for q := 0; q < panels; q++ {
		pan := out[q*nr*kc : (q+1)*nr*kc]
		j0 := jc + q*nr
		cols := min(nr, jc+ncb-j0)
		if trans {
			// op(B)'s column j is B's row j: 8×8 blocks transposed in
			// registers where they fit; the rest element by element, in
			// blocks of 16 k values (a cache line of each row).
			p8 := 0
			if hasTranspose8 && cols%8 == 0 {
				for ; p8+8 <= kc; p8 += 8 {
					for j := 0; j < cols; j += 8 {
						transpose8(&b[(j0+j)*ldb+pc+p8], ldb, &pan[p8*nr+j], nr)
					}
				}
			}
			for p0 := p8; p0 < kc; p0 += 16 {
				p1 := min(p0+16, kc)
				for j := 0; j < cols; j++ {
					col := b[(j0+j)*ldb+pc+p0 : (j0+j)*ldb+pc+p1]
					for p, v := range col {
						pan[(p0+p)*nr+j] = v
					}
				}
			}
			if cols < nr {
				for p := 0; p < kc; p++ {
					clear(pan[p*nr+cols : (p+1)*nr])
				}
			}
			continue
		}
		for p := 0; p < kc; p++ {
			dst := pan[p*nr : (p+1)*nr]
			copy(dst, b[(pc+p)*ldb+j0:(pc+p)*ldb+j0+cols])
			clear(dst[cols:])
		}
	}
	return out
}

// Native is grao's own sgemm (see nativeSgemm) with float64 products on
// gonum. It exists on amd64 CPUs with AVX2 and FMA.
type Native struct {
	kern sgemmKernel
	Gonum
}

// NativeBackend returns the native backend on its widest micro-kernel, or
// an error saying why this machine cannot run it.
func NativeBackend() (Backend, error) {
	ks := nativeKernels()
	if len(ks) == 0 {
		return nil, fmt.Errorf("kernels: the native sgemm needs an amd64 CPU with AVX2 and FMA (and a build without -tags purego)")
	}
	return Native{kern: ks[0]}, nil
}

func (Native) Name() string { return "native" }

func (n Native) Info() string {
	return fmt.Sprintf("native sgemm (%s micro-kernel %d×%d, fused multiply-add chains: the same bits on every AVX2/AVX-512 CPU and core count); float64 on gonum", n.kern.name, n.kern.mr, n.kern.nr)
}

func (n Native) Sgemm(transA, transB bool, m, nn, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	nativeSgemm(n.kern, transA, transB, m, nn, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (Native) SetThreads(int) {}
