// The tap constants below were written out by a script from the inter3l
// table; the loop structure has since been edited by hand.

package g729

// predLt3Block computes n adaptive codebook samples buf[pos+j] for
// fraction f (0..2 after the sign flip of predLt3) from the windows
// w = buf[x0+j-9 : x0+j+11], where w[9-i] = x1[-i] and w[10+i] = x2[i].
// The caller has bounded the sums so that plain int32 arithmetic cannot
// overflow; the sum is then exact in any order, so taps with equal
// coefficients share one multiplication.
//
// The window advances by one sample per output and is read at constant
// offsets, which the compiler folds into the loads. Samples are computed
// in order, so a window may reach outputs of earlier iterations.
func predLt3Block(buf []int16, x0, pos, n int, f int16) {
	out := buf[pos : pos+n]
	w := buf[x0-9:]
	switch f {
	case 0:
		for j := range out {
			if len(w) < 20 {
				return
			}
			s := int32(w[9])*29443 +
				(int32(w[10])+int32(w[8]))*3143 +
				(int32(w[11])+int32(w[7]))*-2783 +
				(int32(w[12])+int32(w[6]))*2259 +
				(int32(w[13])+int32(w[5]))*-1666 +
				(int32(w[14])+int32(w[4]))*1099 +
				(int32(w[15])+int32(w[3]))*-634 +
				(int32(w[16])+int32(w[2]))*308 +
				(int32(w[17])+int32(w[1]))*-120 +
				(int32(w[18])+int32(w[0]))*34
			out[j] = int16((s<<1 + 0x8000) >> 16)
			w = w[1:]
		}
	case 1:
		for j := range out {
			if len(w) < 20 {
				return
			}
			s := int32(w[9])*25207 +
				int32(w[10])*14701 +
				int32(w[8])*-4402 +
				int32(w[11])*-5850 +
				int32(w[7])*1211 +
				int32(w[12])*3130 +
				int32(w[13])*-1652 +
				int32(w[5])*-464 +
				int32(w[14])*756 +
				int32(w[4])*550 +
				int32(w[15])*-245 +
				int32(w[3])*-451 +
				int32(w[2])*296 +
				int32(w[17])*78 +
				int32(w[1])*-165 +
				int32(w[18])*-79 +
				int32(w[0])*91 +
				int32(w[19])*70
			out[j] = int16((s<<1 + 0x8000) >> 16)
			w = w[1:]
		}
	default:
		for j := range out {
			if len(w) < 20 {
				return
			}
			s := int32(w[9])*14701 +
				int32(w[10])*25207 +
				int32(w[8])*-5850 +
				int32(w[11])*-4402 +
				int32(w[7])*3130 +
				int32(w[12])*1211 +
				int32(w[6])*-1652 +
				int32(w[5])*756 +
				int32(w[14])*-464 +
				int32(w[4])*-245 +
				int32(w[15])*550 +
				int32(w[16])*-451 +
				int32(w[2])*78 +
				int32(w[17])*296 +
				int32(w[1])*-79 +
				int32(w[18])*-165 +
				int32(w[0])*70 +
				int32(w[19])*91
			out[j] = int16((s<<1 + 0x8000) >> 16)
			w = w[1:]
		}
	}
}
