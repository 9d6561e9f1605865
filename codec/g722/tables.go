package g722

// Constant tables of ITU-T G.722 (fixed-point description). They are facts of
// the standard and are never written to.

// qm6 is the 6-bit lower sub-band inverse quantizer (64 kbit/s, mode 1),
// indexed by the 6-bit code ILR.
var qm6 = [64]int32{
	-136, -136, -136, -136, -24808, -21904, -19008, -16704,
	-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
	-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
	-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
	24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
	10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
	4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
	1688, 1360, 1040, 728, 432, 136, -432, -136,
}

// qm5 is the 5-bit lower sub-band inverse quantizer (56 kbit/s, mode 2),
// indexed by ILR>>1.
var qm5 = [32]int32{
	-280, -280, -23352, -17560, -14120, -11664, -9752, -8184,
	-6864, -5712, -4696, -3784, -2960, -2208, -1520, -880,
	23352, 17560, 14120, 11664, 9752, 8184, 6864, 5712,
	4696, 3784, 2960, 2208, 1520, 880, 280, -280,
}

// qm4 is the 4-bit lower sub-band inverse quantizer, indexed by ILR>>2. It
// gives the output in mode 3 (48 kbit/s) and, in every mode, the quantized
// difference that drives the lower sub-band predictor and scale factor.
var qm4 = [16]int32{
	0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
	20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
}

// wlByCode is the lower sub-band log scale factor multiplier WL(RIL4(IL4)),
// indexed directly by the 4-bit code ILR>>2: the standard's WL table
// {-60, -30, 58, 172, 334, 538, 1198, 3042} composed with its RIL4 mapping
// {0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}.
var wlByCode = [16]int32{
	-60, 3042, 1198, 538, 334, 172, 58, -30,
	3042, 1198, 538, 334, 172, 58, -30, -60,
}

// qm2 is the 2-bit higher sub-band inverse quantizer, indexed by IH.
var qm2 = [4]int32{-7408, -1616, 7408, 1616}

// whByCode is the higher sub-band log scale factor multiplier WH(RIH2(IH)):
// WH = {0, -214, 798} composed with RIH2 = {2, 1, 2, 1}.
var whByCode = [4]int32{798, -214, 798, -214}

// ila is the inverse log table used by the scale factor computation
// (SCALEL/SCALEH): 2048·2^(i/32) rounded, for the 5 fractional bits of the
// log scale factor.
var ila = [32]int32{
	2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383,
	2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
	2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371,
	3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
}

// qmfEven are the receive QMF coefficients h(0), h(2), ..., h(22) of the
// 24-tap symmetric filter; the odd ones h(1), h(3), ..., h(23) are the same
// values in reverse order.
var qmfEven = [12]int32{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}
