package hashing

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"alliance/internal/jpegdec"
	"alliance/pdq"
)

// Benchmarks of the whole pipeline, file to hashes, on a generated
// 1600×1004 JPEG (the size of the PDQ bridge photographs; waves plus
// noise, quality 90, 4:2:0), per profile and step:
//
//	go test -run '^$' -bench . -benchmem ./internal/hashing
//
// Per-image figures are one core (b.N loop in one goroutine);
// BenchmarkBatch uses all cores (GOMAXPROCS goroutines).

// cpuTime reports, beside the wall-clock ns/op, the process's CPU time
// per op (user+system, all threads, the garbage collector's included) as
// cpu-ms/op: on a shared machine, other tenants inflate the wall clock
// but not, to first order, our CPU time. Call it as defer cpuTime(b)().
func cpuTime(b *testing.B) func() {
	start := rusage()
	return func() {
		b.ReportMetric(float64(rusage()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
}

func rusage() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchFile(b *testing.B) (data []byte, path string) {
	b.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, genNRGBA(1600, 1004, 42), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	path = filepath.Join(b.TempDir(), "bench.jpg")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), path
}

// BenchmarkPipeline is HashFile end to end: read, MD5+SHA-1+SHA-256,
// sniff, header check, decode, PDQ.
func BenchmarkPipeline(b *testing.B) {
	_, path := benchFile(b)
	for _, p := range []pdq.Profile{pdq.ProfileHMA, pdq.ProfileCPPCLI} {
		b.Run(string(p), func(b *testing.B) {
			defer cpuTime(b)()
			for b.Loop() {
				if _, err := HashFile(path, Options{Profile: p}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("hma-dihedral", func(b *testing.B) {
		defer cpuTime(b)()
		for b.Loop() {
			if _, err := HashFile(path, Options{Dihedral: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSteps splits the pipeline: the exact hashes alone, each
// decoder alone, and image/jpeg + PDQ for comparison (its hashes are a few
// bits off the references').
func BenchmarkSteps(b *testing.B) {
	data, _ := benchFile(b)
	b.Run("exact-hashes", func(b *testing.B) {
		defer cpuTime(b)()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var d digests
			d.init()
			d.Write(data)
			d.result(int64(len(data)))
		}
	})
	b.Run("decode/jpegdec", func(b *testing.B) {
		defer cpuTime(b)()
		for b.Loop() {
			if _, err := jpegdec.DecodeBytes(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/jpegdec-sampled-512", func(b *testing.B) {
		defer cpuTime(b)()
		for b.Loop() {
			if _, err := jpegdec.DecodeSampled(data, cliGrid); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/image-jpeg", func(b *testing.B) {
		defer cpuTime(b)()
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	img, err := jpegdec.DecodeBytes(data)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []pdq.Profile{pdq.ProfileHMA, pdq.ProfileCPPCLI} {
		b.Run("pdq/"+string(p), func(b *testing.B) {
			defer cpuTime(b)()
			for b.Loop() {
				if _, err := pdq.HashImage(img, pdq.Options{Profile: p}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("image-jpeg+pdq/hma", func(b *testing.B) {
		defer cpuTime(b)()
		for b.Loop() {
			m, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := pdq.HashImage(m, pdq.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBatch hashes the file from all cores at once, as `alliance
// hash` does on a directory; ns/op is per image across all cores.
func BenchmarkBatch(b *testing.B) {
	_, path := benchFile(b)
	for _, p := range []pdq.Profile{pdq.ProfileHMA, pdq.ProfileCPPCLI} {
		b.Run(string(p), func(b *testing.B) {
			var failed atomic.Bool
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := HashFile(path, Options{Profile: p}); err != nil {
						failed.Store(true)
					}
				}
			})
			if failed.Load() {
				b.Fatal("hashing failed")
			}
		})
	}
}
