package g729

import "math/bits"

// Fixed-point primitives of the ITU-T bit-exact description (the "basic
// operators" of G.191 as used by G.729): 16-bit and 32-bit two's complement
// arithmetic with saturation. Each function reproduces the defined result of
// the operator of the same meaning; the overflow flag of the reference is
// not kept globally — the one place that needs it (the synthesis filter)
// detects saturation itself.

const (
	max16 = 32767
	min16 = -32768
	max32 = 0x7fffffff
	min32 = -0x80000000
)

// sat16 clamps a 32-bit value to the 16-bit range.
func sat16(x int32) int16 {
	if x > max16 {
		return max16
	}
	if x < min16 {
		return min16
	}
	return int16(x)
}

// sat32 clamps a 64-bit value to the 32-bit range.
func sat32(x int64) int32 {
	if x > max32 {
		return max32
	}
	if x < min32 {
		return min32
	}
	return int32(x)
}

func add(a, b int16) int16 { return sat16(int32(a) + int32(b)) }
func sub(a, b int16) int16 { return sat16(int32(a) - int32(b)) }

// mult is the Q15 product (a*b)>>15 with saturation.
func mult(a, b int16) int16 { return sat16((int32(a) * int32(b)) >> 15) }

// multR is mult with rounding.
func multR(a, b int16) int16 { return sat16((int32(a)*int32(b) + 0x4000) >> 15) }

func negate(a int16) int16 {
	if a == min16 {
		return max16
	}
	return -a
}

func abs16(a int16) int16 {
	if a == min16 {
		return max16
	}
	if a < 0 {
		return -a
	}
	return a
}

func extractH(x int32) int16 { return int16(x >> 16) }
func extractL(x int32) int16 { return int16(x) }

// lMult is the Q31 product 2*a*b; only -32768*-32768 saturates.
func lMult(a, b int16) int32 {
	p := int32(a) * int32(b)
	if p == 0x40000000 {
		return max32
	}
	return p << 1
}

func lAdd(a, b int32) int32 { return sat32(int64(a) + int64(b)) }
func lSub(a, b int32) int32 { return sat32(int64(a) - int64(b)) }

func lMac(acc int32, a, b int16) int32 { return lAdd(acc, lMult(a, b)) }
func lMsu(acc int32, a, b int16) int32 { return lSub(acc, lMult(a, b)) }

// shl shifts left with saturation; a negative count shifts right.
func shl(a int16, n int16) int16 {
	if n < 0 {
		return shr(a, -n)
	}
	if a == 0 {
		return 0
	}
	if n > 16 {
		n = 16
	}
	return sat16(int32(a) << uint(n))
}

// shr shifts right arithmetically; a negative count shifts left.
func shr(a int16, n int16) int16 {
	if n < 0 {
		return shl(a, -n)
	}
	if n >= 15 {
		if a < 0 {
			return -1
		}
		return 0
	}
	return a >> uint(n)
}

// shrR is shr with rounding.
func shrR(a int16, n int16) int16 {
	if n > 15 {
		return 0
	}
	r := shr(a, n)
	if n > 0 && a&(1<<uint(n-1)) != 0 {
		r++
	}
	return r
}

// lShl shifts left with saturation; a negative count shifts right.
func lShl(x int32, n int16) int32 {
	if n <= 0 {
		return lShr(x, -n)
	}
	if x == 0 {
		return 0
	}
	if n > 32 {
		n = 32
	}
	return sat32(int64(x) << uint(n))
}

// lShr shifts right arithmetically; a negative count shifts left.
func lShr(x int32, n int16) int32 {
	if n < 0 {
		return lShl(x, -n)
	}
	if n >= 31 {
		if x < 0 {
			return -1
		}
		return 0
	}
	return x >> uint(n)
}

// lShrR is lShr with rounding.
func lShrR(x int32, n int16) int32 {
	if n > 31 {
		return 0
	}
	r := lShr(x, n)
	if n > 0 && x&(1<<uint(n-1)) != 0 {
		r++
	}
	return r
}

// round returns the rounded high half: extractH(lAdd(x, 0x8000)).
func round(x int32) int16 { return extractH(lAdd(x, 0x8000)) }

// normS is the left shift that normalises a 16-bit value.
func normS(a int16) int16 {
	if a == 0 {
		return 0
	}
	if a == -1 {
		return 15
	}
	if a < 0 {
		a = ^a
	}
	return int16(bits.LeadingZeros16(uint16(a)) - 1)
}

// normL is the left shift that normalises a 32-bit value.
func normL(x int32) int16 {
	if x == 0 {
		return 0
	}
	if x == -1 {
		return 31
	}
	if x < 0 {
		x = ^x
	}
	return int16(bits.LeadingZeros32(uint32(x)) - 1)
}

// divS is the Q15 quotient a/b for 0 <= a <= b, b > 0. Inputs outside that
// domain (where the reference aborts) give 0.
func divS(a, b int16) int16 {
	if a <= 0 || b <= 0 || a > b {
		return 0
	}
	if a == b {
		return max16
	}
	return int16((int32(a) << 15) / int32(b))
}

// Double precision format: x = hi<<16 + lo<<1.

// lExtract splits x into hi = x>>16 and lo = (x - hi<<16)>>1, which is the
// reference's L_msu(L_shr(x, 1), hi, 16384): it never saturates.
func lExtract(x int32) (hi, lo int16) {
	return int16(x >> 16), int16((x >> 1) & 0x7fff)
}

func lComp(hi, lo int16) int32 { return lMac(int32(hi)<<16, lo, 1) }

func mpy32x16(hi, lo, n int16) int32 {
	return lMac(lMult(hi, n), mult(lo, n), 1)
}

// lShlC is lShl for a constant shift 0 < n < 31 (inlinable).
func lShlC(x int32, n uint) int32 {
	if x > max32>>n {
		return max32
	}
	if x < min32>>n {
		return min32
	}
	return x << n
}

// shrC is shr for a constant shift 0 <= n < 15 (inlinable).
func shrC(a int16, n uint) int16 { return a >> n }

// lShrRC is lShrR for a constant shift 0 < n < 31 (inlinable).
func lShrRC(x int32, n uint) int32 { return (x >> n) + ((x >> (n - 1)) & 1) }
