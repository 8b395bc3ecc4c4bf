//go:build !purego

#include "textflag.h"

// Each constant is stored 8 times (one YMM register's worth) so that it can
// be a memory operand. The float32 values are exactly those of the Go
// constants in expf and the GELU kernels (exp_amd64_test.go checks the
// results bit for bit against the scalar code).

DATA expc<>+0(SB)/4, $0xc2aeac4f
DATA expc<>+4(SB)/4, $0xc2aeac4f
DATA expc<>+8(SB)/4, $0xc2aeac4f
DATA expc<>+12(SB)/4, $0xc2aeac4f
DATA expc<>+16(SB)/4, $0xc2aeac4f
DATA expc<>+20(SB)/4, $0xc2aeac4f
DATA expc<>+24(SB)/4, $0xc2aeac4f
DATA expc<>+28(SB)/4, $0xc2aeac4f
DATA expc<>+32(SB)/4, $0x42b00000
DATA expc<>+36(SB)/4, $0x42b00000
DATA expc<>+40(SB)/4, $0x42b00000
DATA expc<>+44(SB)/4, $0x42b00000
DATA expc<>+48(SB)/4, $0x42b00000
DATA expc<>+52(SB)/4, $0x42b00000
DATA expc<>+56(SB)/4, $0x42b00000
DATA expc<>+60(SB)/4, $0x42b00000
DATA expc<>+64(SB)/4, $0x3fb8aa3b
DATA expc<>+68(SB)/4, $0x3fb8aa3b
DATA expc<>+72(SB)/4, $0x3fb8aa3b
DATA expc<>+76(SB)/4, $0x3fb8aa3b
DATA expc<>+80(SB)/4, $0x3fb8aa3b
DATA expc<>+84(SB)/4, $0x3fb8aa3b
DATA expc<>+88(SB)/4, $0x3fb8aa3b
DATA expc<>+92(SB)/4, $0x3fb8aa3b
DATA expc<>+96(SB)/4, $0x4b400000
DATA expc<>+100(SB)/4, $0x4b400000
DATA expc<>+104(SB)/4, $0x4b400000
DATA expc<>+108(SB)/4, $0x4b400000
DATA expc<>+112(SB)/4, $0x4b400000
DATA expc<>+116(SB)/4, $0x4b400000
DATA expc<>+120(SB)/4, $0x4b400000
DATA expc<>+124(SB)/4, $0x4b400000
DATA expc<>+128(SB)/4, $0x3f318000
DATA expc<>+132(SB)/4, $0x3f318000
DATA expc<>+136(SB)/4, $0x3f318000
DATA expc<>+140(SB)/4, $0x3f318000
DATA expc<>+144(SB)/4, $0x3f318000
DATA expc<>+148(SB)/4, $0x3f318000
DATA expc<>+152(SB)/4, $0x3f318000
DATA expc<>+156(SB)/4, $0x3f318000
DATA expc<>+160(SB)/4, $0xb95e8083
DATA expc<>+164(SB)/4, $0xb95e8083
DATA expc<>+168(SB)/4, $0xb95e8083
DATA expc<>+172(SB)/4, $0xb95e8083
DATA expc<>+176(SB)/4, $0xb95e8083
DATA expc<>+180(SB)/4, $0xb95e8083
DATA expc<>+184(SB)/4, $0xb95e8083
DATA expc<>+188(SB)/4, $0xb95e8083
DATA expc<>+192(SB)/4, $0x39506967
DATA expc<>+196(SB)/4, $0x39506967
DATA expc<>+200(SB)/4, $0x39506967
DATA expc<>+204(SB)/4, $0x39506967
DATA expc<>+208(SB)/4, $0x39506967
DATA expc<>+212(SB)/4, $0x39506967
DATA expc<>+216(SB)/4, $0x39506967
DATA expc<>+220(SB)/4, $0x39506967
DATA expc<>+224(SB)/4, $0x3ab743ce
DATA expc<>+228(SB)/4, $0x3ab743ce
DATA expc<>+232(SB)/4, $0x3ab743ce
DATA expc<>+236(SB)/4, $0x3ab743ce
DATA expc<>+240(SB)/4, $0x3ab743ce
DATA expc<>+244(SB)/4, $0x3ab743ce
DATA expc<>+248(SB)/4, $0x3ab743ce
DATA expc<>+252(SB)/4, $0x3ab743ce
DATA expc<>+256(SB)/4, $0x3c088908
DATA expc<>+260(SB)/4, $0x3c088908
DATA expc<>+264(SB)/4, $0x3c088908
DATA expc<>+268(SB)/4, $0x3c088908
DATA expc<>+272(SB)/4, $0x3c088908
DATA expc<>+276(SB)/4, $0x3c088908
DATA expc<>+280(SB)/4, $0x3c088908
DATA expc<>+284(SB)/4, $0x3c088908
DATA expc<>+288(SB)/4, $0x3d2aa9c1
DATA expc<>+292(SB)/4, $0x3d2aa9c1
DATA expc<>+296(SB)/4, $0x3d2aa9c1
DATA expc<>+300(SB)/4, $0x3d2aa9c1
DATA expc<>+304(SB)/4, $0x3d2aa9c1
DATA expc<>+308(SB)/4, $0x3d2aa9c1
DATA expc<>+312(SB)/4, $0x3d2aa9c1
DATA expc<>+316(SB)/4, $0x3d2aa9c1
DATA expc<>+320(SB)/4, $0x3e2aaaaa
DATA expc<>+324(SB)/4, $0x3e2aaaaa
DATA expc<>+328(SB)/4, $0x3e2aaaaa
DATA expc<>+332(SB)/4, $0x3e2aaaaa
DATA expc<>+336(SB)/4, $0x3e2aaaaa
DATA expc<>+340(SB)/4, $0x3e2aaaaa
DATA expc<>+344(SB)/4, $0x3e2aaaaa
DATA expc<>+348(SB)/4, $0x3e2aaaaa
DATA expc<>+352(SB)/4, $0x3f000000
DATA expc<>+356(SB)/4, $0x3f000000
DATA expc<>+360(SB)/4, $0x3f000000
DATA expc<>+364(SB)/4, $0x3f000000
DATA expc<>+368(SB)/4, $0x3f000000
DATA expc<>+372(SB)/4, $0x3f000000
DATA expc<>+376(SB)/4, $0x3f000000
DATA expc<>+380(SB)/4, $0x3f000000
DATA expc<>+384(SB)/4, $0x3f800000
DATA expc<>+388(SB)/4, $0x3f800000
DATA expc<>+392(SB)/4, $0x3f800000
DATA expc<>+396(SB)/4, $0x3f800000
DATA expc<>+400(SB)/4, $0x3f800000
DATA expc<>+404(SB)/4, $0x3f800000
DATA expc<>+408(SB)/4, $0x3f800000
DATA expc<>+412(SB)/4, $0x3f800000
DATA expc<>+416(SB)/4, $0x3f4c422a
DATA expc<>+420(SB)/4, $0x3f4c422a
DATA expc<>+424(SB)/4, $0x3f4c422a
DATA expc<>+428(SB)/4, $0x3f4c422a
DATA expc<>+432(SB)/4, $0x3f4c422a
DATA expc<>+436(SB)/4, $0x3f4c422a
DATA expc<>+440(SB)/4, $0x3f4c422a
DATA expc<>+444(SB)/4, $0x3f4c422a
DATA expc<>+448(SB)/4, $0x3d372713
DATA expc<>+452(SB)/4, $0x3d372713
DATA expc<>+456(SB)/4, $0x3d372713
DATA expc<>+460(SB)/4, $0x3d372713
DATA expc<>+464(SB)/4, $0x3d372713
DATA expc<>+468(SB)/4, $0x3d372713
DATA expc<>+472(SB)/4, $0x3d372713
DATA expc<>+476(SB)/4, $0x3d372713
DATA expc<>+480(SB)/4, $0x3e095d4f
DATA expc<>+484(SB)/4, $0x3e095d4f
DATA expc<>+488(SB)/4, $0x3e095d4f
DATA expc<>+492(SB)/4, $0x3e095d4f
DATA expc<>+496(SB)/4, $0x3e095d4f
DATA expc<>+500(SB)/4, $0x3e095d4f
DATA expc<>+504(SB)/4, $0x3e095d4f
DATA expc<>+508(SB)/4, $0x3e095d4f
DATA expc<>+512(SB)/4, $0xc0000000
DATA expc<>+516(SB)/4, $0xc0000000
DATA expc<>+520(SB)/4, $0xc0000000
DATA expc<>+524(SB)/4, $0xc0000000
DATA expc<>+528(SB)/4, $0xc0000000
DATA expc<>+532(SB)/4, $0xc0000000
DATA expc<>+536(SB)/4, $0xc0000000
DATA expc<>+540(SB)/4, $0xc0000000
DATA expc<>+544(SB)/4, $0x0000007f
DATA expc<>+548(SB)/4, $0x0000007f
DATA expc<>+552(SB)/4, $0x0000007f
DATA expc<>+556(SB)/4, $0x0000007f
DATA expc<>+560(SB)/4, $0x0000007f
DATA expc<>+564(SB)/4, $0x0000007f
DATA expc<>+568(SB)/4, $0x0000007f
DATA expc<>+572(SB)/4, $0x0000007f
GLOBL expc<>(SB), RODATA|NOPTR, $576

#define LO expc<>+0(SB)
#define HI expc<>+32(SB)
#define LOG2E expc<>+64(SB)
#define MAGIC expc<>+96(SB)
#define C1 expc<>+128(SB)
#define C2 expc<>+160(SB)
#define P0 expc<>+192(SB)
#define P1 expc<>+224(SB)
#define P2 expc<>+256(SB)
#define P3 expc<>+288(SB)
#define P4 expc<>+320(SB)
#define P5 expc<>+352(SB)
#define ONE expc<>+384(SB)
#define GELUC expc<>+416(SB)
#define K1 expc<>+448(SB)
#define K3 expc<>+480(SB)
#define M2 expc<>+512(SB)
#define I127 expc<>+544(SB)

// EXP8 sets Y0 = expf(Y0) lane by lane with the same sequence of IEEE
// float32 operations as the scalar expf (no FMA: Go does not fuse on
// GOAMD64=v1, so fusing here would change the last bit). Clobbers Y1, Y2.
// VMAXPS/VMINPS return their last Go operand when either is NaN, so NaN
// stays NaN as with Go's min/max.
#define EXP8 \
	VMOVUPS LO, Y1 \
	VMAXPS  Y0, Y1, Y0 \
	VMOVUPS HI, Y1 \
	VMINPS  Y0, Y1, Y0 \
	VMULPS  LOG2E, Y0, Y1 \
	VADDPS  MAGIC, Y1, Y1 \
	VSUBPS  MAGIC, Y1, Y1 \
	VMULPS  C1, Y1, Y2 \
	VSUBPS  Y2, Y0, Y0 \
	VMULPS  C2, Y1, Y2 \
	VSUBPS  Y2, Y0, Y0 \
	VMULPS  P0, Y0, Y2 \
	VADDPS  P1, Y2, Y2 \
	VMULPS  Y0, Y2, Y2 \
	VADDPS  P2, Y2, Y2 \
	VMULPS  Y0, Y2, Y2 \
	VADDPS  P3, Y2, Y2 \
	VMULPS  Y0, Y2, Y2 \
	VADDPS  P4, Y2, Y2 \
	VMULPS  Y0, Y2, Y2 \
	VADDPS  P5, Y2, Y2 \
	VMULPS  Y0, Y2, Y2 \
	VMULPS  Y0, Y2, Y2 \
	VADDPS  Y0, Y2, Y2 \
	VADDPS  ONE, Y2, Y2 \
	VCVTTPS2DQ Y1, Y1 \
	VPADDD  I127, Y1, Y1 \
	VPSLLD  $23, Y1, Y1 \
	VMULPS  Y1, Y2, Y0

// func expShiftAVX2(dst, src *float32, n int, shift float32)
// dst[i] = expf(src[i]-shift) for i < n&^7.
TEXT ·expShiftAVX2(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS shift+24(FP), Y3
	SHRQ $3, CX
	JZ   expdone
exploop:
	VMOVUPS (SI), Y0
	VSUBPS  Y3, Y0, Y0
	EXP8
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  exploop
expdone:
	VZEROUPPER
	RET

// func geluDerivAVX2(y, d, x *float32, n int)
// For i < n&^7, with x2 = x·x, u = C·(x + (K1·x2)·x), s = 1/(1+expf(-2u)),
// du = C·(1 + K3·x2): y = x·s, d = s + (((2x)·s)·(1-s))·du.
TEXT ·geluDerivAVX2(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ d+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   gddone
gdloop:
	VMOVUPS (SI), Y4
	VMULPS  Y4, Y4, Y5
	VMULPS  K1, Y5, Y6
	VMULPS  Y4, Y6, Y6
	VADDPS  Y6, Y4, Y6
	VMULPS  GELUC, Y6, Y6
	VMULPS  M2, Y6, Y0
	EXP8
	VADDPS  ONE, Y0, Y0
	VMOVUPS ONE, Y1
	VDIVPS  Y0, Y1, Y0
	VMULPS  K3, Y5, Y5
	VADDPS  ONE, Y5, Y5
	VMULPS  GELUC, Y5, Y5
	VMULPS  Y0, Y4, Y6
	VMOVUPS Y6, (DI)
	VADDPS  Y4, Y4, Y7
	VMULPS  Y0, Y7, Y7
	VMOVUPS ONE, Y1
	VSUBPS  Y0, Y1, Y1
	VMULPS  Y1, Y7, Y7
	VMULPS  Y5, Y7, Y7
	VADDPS  Y7, Y0, Y7
	VMOVUPS Y7, (DX)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNZ  gdloop
gddone:
	VZEROUPPER
	RET

// func geluAVX2(y, x *float32, n int)
// For i < n&^7: u = C·(x + ((K1·x)·x)·x), y = x / (1 + expf(-2u)).
TEXT ·geluAVX2(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   gdone
gloop:
	VMOVUPS (SI), Y4
	VMULPS  K1, Y4, Y6
	VMULPS  Y4, Y6, Y6
	VMULPS  Y4, Y6, Y6
	VADDPS  Y6, Y4, Y6
	VMULPS  GELUC, Y6, Y6
	VMULPS  M2, Y6, Y0
	EXP8
	VADDPS  ONE, Y0, Y0
	VDIVPS  Y0, Y4, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  gloop
gdone:
	VZEROUPPER
	RET

// func dotAVX2(a, b *float32, n int) float32
// Lane k of one accumulator sums a[i]·b[i] for i ≡ k (mod 8), i < n&^7,
// then lanes are combined as ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)).
// dot32Lanes in vec.go is the same computation in Go.
TEXT ·dotAVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	SHRQ $3, CX
	JZ   dotsum
dotloop:
	VMOVUPS (SI), Y1
	VMULPS  (DI), Y1, Y1
	VADDPS  Y1, Y0, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  dotloop
dotsum:
	VEXTRACTF128 $1, Y0, X1
	VADDPS  X1, X0, X0
	VMOVHLPS X0, X0, X1
	VADDPS  X1, X0, X0
	VMOVSHDUP X0, X1
	VADDSS  X1, X0, X0
	VMOVSS  X0, ret+24(FP)
	VZEROUPPER
	RET

// func axpyAVX2(y, x *float32, n int, alpha float32)
// y[i] += alpha·x[i] for i < n&^7 (a product, then a sum, as in Go).
TEXT ·axpyAVX2(SB), NOSPLIT, $0-28
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS alpha+24(FP), Y3
	SHRQ $3, CX
	JZ   axpydone
axpyloop:
	VMULPS  (SI), Y3, Y0
	VADDPS  (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  axpyloop
axpydone:
	VZEROUPPER
	RET

// REDUCE8 sums the 8 lanes of Y into its lowest lane in dotAVX2's order,
// ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)), and stores it at DST.
#define REDUCE8(Y, X, DST) \
	VEXTRACTF128 $1, Y, X9 \
	VADDPS  X9, X, X \
	VMOVHLPS X, X, X9 \
	VADDPS  X9, X, X \
	VMOVSHDUP X, X9 \
	VADDSS  X9, X, X \
	VMOVSS  X, DST

// func dotKeysAVX2(q, k *float32, stride, n, hd int, out *float32)
// out[j] = dot(q[:hd], k[j*stride:][:hd]) for j < n&^3, each in dotAVX2's
// order (a product, then a sum, per 8-lane chunk; the same reduction); four
// keys at a time, so that their dependency chains overlap. hd is a
// positive multiple of 8; stride is in elements.
TEXT ·dotKeysAVX2(SB), NOSPLIT, $0-48
	MOVQ q+0(FP), SI
	MOVQ k+8(FP), DI
	MOVQ stride+16(FP), R8
	SHLQ $2, R8
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	JZ   dkdone
	MOVQ hd+32(FP), R9
	SHRQ $3, R9
	MOVQ out+40(FP), DX
dkgroup:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ SI, R10
	MOVQ DI, R11
	LEAQ (R11)(R8*1), R12
	LEAQ (R12)(R8*1), R13
	LEAQ (R13)(R8*1), AX
	MOVQ R9, BX
dkchunk:
	VMOVUPS (R10), Y4
	VMULPS  (R11), Y4, Y5
	VADDPS  Y5, Y0, Y0
	VMULPS  (R12), Y4, Y6
	VADDPS  Y6, Y1, Y1
	VMULPS  (R13), Y4, Y7
	VADDPS  Y7, Y2, Y2
	VMULPS  (AX), Y4, Y8
	VADDPS  Y8, Y3, Y3
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, R13
	ADDQ $32, AX
	DECQ BX
	JNZ  dkchunk
	REDUCE8(Y0, X0, 0(DX))
	REDUCE8(Y1, X1, 4(DX))
	REDUCE8(Y2, X2, 8(DX))
	REDUCE8(Y3, X3, 12(DX))
	ADDQ $16, DX
	LEAQ (DI)(R8*4), DI
	DECQ CX
	JNZ  dkgroup
dkdone:
	VZEROUPPER
	RET

// func axpyKeysAVX2(out, v *float32, stride int, p *float32, n, hd int)
// out[c] = Σ_j p[j]·v[j*stride+c] for c < hd, j ascending from a zero
// sum: the bits of clearing out and calling axpyAVX2 for each j in turn
// (a product, then a sum). The 32-element blocks of out stay in registers
// across the keys. hd is a positive multiple of 32; n ≥ 0.
TEXT ·axpyKeysAVX2(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DX
	MOVQ v+8(FP), DI
	MOVQ stride+16(FP), R8
	SHLQ $2, R8
	MOVQ p+24(FP), SI
	MOVQ n+32(FP), CX
	MOVQ hd+40(FP), R9
	SHRQ $5, R9
	JZ   akdone
akblock:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ DI, R10
	MOVQ SI, R11
	MOVQ CX, BX
	TESTQ BX, BX
	JZ   akstore
akkey:
	VBROADCASTSS (R11), Y4
	VMULPS  0(R10), Y4, Y5
	VADDPS  Y5, Y0, Y0
	VMULPS  32(R10), Y4, Y6
	VADDPS  Y6, Y1, Y1
	VMULPS  64(R10), Y4, Y7
	VADDPS  Y7, Y2, Y2
	VMULPS  96(R10), Y4, Y8
	VADDPS  Y8, Y3, Y3
	ADDQ R8, R10
	ADDQ $4, R11
	DECQ BX
	JNZ  akkey
akstore:
	VMOVUPS Y0, 0(DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	ADDQ $128, DX
	ADDQ $128, DI
	DECQ R9
	JNZ  akblock
akdone:
	VZEROUPPER
	RET
