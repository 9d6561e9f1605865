package g729

// synthesis filters 1/A(z) and the inverse filter A(z).

// synFilt filters x through 1/A(z) (a in Q12, a[0] = 1.0) into y, starting
// from the past outputs in mem (mem[9] is the most recent). It returns true
// if any operation saturated, which the decoder uses to rescale the
// excitation. mem is not updated.
func synFilt(a []int16, x []int16, y []int16, mem *[lpcOrder]int16) (overflow bool) {
	var buf [lpcOrder + 80]int16
	copy(buf[:lpcOrder], mem[:])
	a = a[:lpcOrder+1]
	n := len(x)
	y = y[:n]
	for i := 0; i < n; i++ {
		s := int64(lMult(x[i], a[0]))
		yy := buf[i : i+lpcOrder]
		for j := 1; j <= lpcOrder; j++ {
			p := int32(a[j]) * int32(yy[lpcOrder-j])
			if p == 0x40000000 { // L_mult saturation
				overflow = true
				s -= max32
			} else {
				s -= int64(p) << 1
			}
			if s > max32 {
				s = max32
				overflow = true
			} else if s < min32 {
				s = min32
				overflow = true
			}
		}
		// L_shl(s, 3) followed by round.
		t := s << 3
		if t > max32 {
			t = max32
			overflow = true
		} else if t < min32 {
			t = min32
			overflow = true
		}
		t += 0x8000
		if t > max32 {
			t = max32
			overflow = true
		}
		buf[lpcOrder+i] = int16(t >> 16)
	}
	copy(y, buf[lpcOrder:lpcOrder+n])
	return overflow
}

// residu filters x through A(z) into y; x[-10..-1] must be valid, so x is
// passed with its 10 samples of history: x[10:] is the signal.
func residu(a []int16, x []int16, y []int16) {
	a = a[:lpcOrder+1]
	n := len(y)
	for i := 0; i < n; i++ {
		s := lMult(x[i+lpcOrder], a[0])
		for j := 1; j <= lpcOrder; j++ {
			s = lMac(s, a[j], x[i+lpcOrder-j])
		}
		s = lShl(s, 3)
		y[i] = round(s)
	}
}

// weightAz computes ap[i] = a[i] * gamma^i.
func weightAz(a []int16, gamma int16, ap *[lpcOrder + 1]int16) {
	ap[0] = a[0]
	fac := gamma
	for i := 1; i < lpcOrder; i++ {
		ap[i] = round(lMult(a[i], fac))
		fac = round(lMult(fac, gamma))
	}
	ap[lpcOrder] = round(lMult(a[lpcOrder], fac))
}
