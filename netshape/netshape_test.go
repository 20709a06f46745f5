package netshape

import (
	"math"
	"strings"
	"testing"
	"time"
)

// psched ticks per microsecond on current kernels (1000 ns/us over 64 ns/tick).
const tick = 15.625

func TestCompute(t *testing.T) {
	for _, c := range []struct {
		name           string
		rate, burst    uint64
		mtu            uint32
		wantRate       uint64
		wantBurst      uint64
		wantLimit      uint32
		wantBufferTick uint32
	}{
		// 2 Mbit/s: 250000 B/s; default burst 500 ms = 125000 B; limit
		// 250000*0.025 + 125000 = 131250; buffer 0.5 s = 500000 us = 7812500 ticks.
		{"2M default burst", 2e6, 0, 1500, 250000, 125000, 131250, 7812500},
		// slirp4netns' 65520-byte MTU would raise the burst to two packets.
		{"200k jumbo MTU", 2e5, 0, 65520, 25000, 131040, 131665, 81900000},
		// at low rates the floor of 64 KiB holds
		{"100k floor", 1e5, 0, 1500, 12500, 65536, 65848, 81920000},
		{"explicit burst", 8e6, 80000, 1500, 1e6, 10000, 35000, 156250},
		{"1P", 1e15, 0, 1500, 125e12, 62.5e12, 4294967295, 7812500},
		{"10Mi", 10 * 1024 * 1024, 0, 1500, 1310720, 655360, 688128, 7812500},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Compute(c.rate, c.burst, c.mtu, tick)
			if err != nil {
				t.Fatal(err)
			}
			if got.RateBytesPerSec != c.wantRate || got.BurstBytes != c.wantBurst || got.LimitBytes != c.wantLimit ||
				got.BufferTicks != c.wantBufferTick || got.Latency != 25*time.Millisecond {
				t.Errorf("got %+v, want rate %d burst %d limit %d buffer %d", got, c.wantRate, c.wantBurst, c.wantLimit, c.wantBufferTick)
			}
		})
	}
	// 1 kbit/s with the 64 KiB floor would need a 524 s bucket: more than the
	// kernel's 32-bit tick count holds; the default takes the largest that fits.
	got, err := Compute(1000, 0, 1500, tick)
	if err != nil || got.BurstBytes < 3000 || got.BurstBytes > 34359 || float64(got.BufferTicks) > math.MaxUint32 {
		t.Errorf("1k: %+v %v", got, err)
	}
	// An explicit burst that does not fit is refused, not wrapped around.
	if _, err := Compute(1000, 8*65536, 1500, tick); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Errorf("1k with a 64 KiB burst: %v", err)
	}
	// With a jumbo MTU no bucket fits two packets at 1k: refused.
	if _, err := Compute(1000, 0, 65520, tick); err == nil {
		t.Error("1k on a 65520-byte MTU accepted")
	}
}

func TestFormatRate(t *testing.T) {
	for in, want := range map[uint64]string{2e6: "2Mbit", 3e6: "3Mbit", 1500: "1.5Kbit", 1e9: "1Gbit", 10 * 1024 * 1024: "10.486Mbit", 999: "999bit"} {
		if got := FormatRate(in); got != want {
			t.Errorf("FormatRate(%d) = %s, want %s", in, got, want)
		}
	}
	if IFBName == "" || len(IFBName) > 15 {
		t.Errorf("IFB name %q", IFBName)
	}
}
