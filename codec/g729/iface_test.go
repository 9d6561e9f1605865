package g729_test

import (
	"recordings/codec"
	"recordings/codec/g729"
)

var _ codec.Decoder = (*g729.Decoder)(nil)
