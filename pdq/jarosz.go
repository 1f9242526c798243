package pdq

// The downsample: two passes of a Jarosz box filter along rows then
// columns (a tent filter), then 64×64 point samples. The reference runs
// the four 1-D passes over whole float buffers, the column passes with a
// stride of one row, and then keeps 4096 of the results. This version
// produces the very same 4096 numbers, each by the same sequence of
// float32 operations, with far less work and memory traffic:
//
//   - pass 1 (rows) is computed a few rows at a time as they are needed,
//     straight from the image, so no full-size luma buffer exists;
//   - pass 2 (columns) walks the image row-major, advancing one running
//     sum per column, so memory is read sequentially and the independent
//     sums overlap in the CPU; it keeps only window+4 rows of pass 1;
//   - pass 3 (rows) runs each row's running sum over the whole row (the
//     sum's rounding history must be the reference's), but divides only
//     at the at most 64 columns the decimation keeps;
//   - pass 4 (columns) runs only on those columns and divides only at the
//     at most 64 rows the decimation keeps.
//
// A running sum is never fed by a division, so skipping the divisions
// whose results would be thrown away changes no bit. The divisions that
// remain are true float32 divisions, as in the reference: a multiply by
// the reciprocal would round differently.

// windowSize is the reference's computeJaroszFilterWindowSize for a 64
// sample target: half of old/64, rounded up, since two passes are made.
func windowSize(oldDim int) int {
	return (oldDim + 2*64 - 1) / (2 * 64)
}

// boxPhases splits a box filter of window w over n samples the way the
// reference's box1DFloat does: p1 adds without output, p2 adds and writes
// with a growing window, p3 adds and subtracts at full window, p4 only
// subtracts with a shrinking window.
type boxPhases struct {
	p1, p2, p3, p4 int
}

func phasesFor(n, w int) boxPhases {
	half := (w + 2) / 2
	return boxPhases{
		p1: half - 1,
		p2: w - half + 1,
		p3: n - w,
		p4: half - 1,
	}
}

// count is the number of samples in the window behind output o.
func (p boxPhases) count(o int) int {
	switch {
	case o < p.p2:
		return p.p1 + 1 + o
	case o < p.p2+p.p3:
		return p.p1 + p.p2
	}
	return p.p1 + p.p2 - (o - p.p2 - p.p3 + 1)
}

// batch is how many rows the row passes filter together. A running sum
// is a chain of dependent float adds, so one row at a time leaves the CPU
// waiting on add latency; four independent chains side by side keep it
// busy. Each row still sees exactly the reference's sequence of adds.
const batch = 4

// boxRows runs the reference's box1DFloat (unit stride, window w) over
// each of 1 to batch rows of equal length. With divide it writes the
// filtered values to out; without, it writes the running sums undivided,
// for a caller that needs only a few outputs.
func boxRows(in, out [][]float32, w int, divide bool) {
	ph := phasesFor(len(in[0]), w)
	var sums [batch]float32
	for k := range in {
		sums[k] = boxHead(in[k], out[k], ph, divide)
	}
	if len(in) == batch {
		sums = boxBody4(in, out, ph, w, sums, divide)
	} else {
		for k := range in {
			sums[k] = boxBody(in[k], out[k], ph, w, sums[k], divide)
		}
	}
	for k := range in {
		boxTail(in[k], out[k], ph, sums[k], divide)
	}
}

// boxHead is phases 1 and 2: the window grows to its full size.
func boxHead(in, out []float32, ph boxPhases, divide bool) float32 {
	var sum float32
	ri := 0
	for ; ri < ph.p1; ri++ {
		sum += in[ri]
	}
	cnt := ph.p1
	for o := 0; o < ph.p2; o++ {
		sum += in[ri]
		ri++
		cnt++
		if divide {
			out[o] = sum / float32(cnt)
		} else {
			out[o] = sum
		}
	}
	return sum
}

// boxBody is phase 3, the full window: add the entering sample, then
// subtract the leaving one, in that order.
func boxBody(in, out []float32, ph boxPhases, w int, sum float32, divide bool) float32 {
	n := ph.p3
	add, sub, dst := in[w:w+n], in[:n], out[ph.p2:ph.p2+n]
	if divide {
		full := float32(w)
		for i := range dst {
			sum += add[i]
			sum -= sub[i]
			dst[i] = sum / full
		}
	} else {
		for i := range dst {
			sum += add[i]
			sum -= sub[i]
			dst[i] = sum
		}
	}
	return sum
}

// boxBody4 is boxBody on four rows with their chains interleaved.
func boxBody4(in, out [][]float32, ph boxPhases, w int, s [batch]float32, divide bool) [batch]float32 {
	n := ph.p3
	d0, d1, d2, d3 := out[0][ph.p2:ph.p2+n], out[1][ph.p2:ph.p2+n], out[2][ph.p2:ph.p2+n], out[3][ph.p2:ph.p2+n]
	a0, a1, a2, a3 := in[0][w:w+n], in[1][w:w+n], in[2][w:w+n], in[3][w:w+n]
	b0, b1, b2, b3 := in[0][:n], in[1][:n], in[2][:n], in[3][:n]
	s0, s1, s2, s3 := s[0], s[1], s[2], s[3]
	if divide {
		full := float32(w)
		for i := range d0 {
			s0 += a0[i]
			s1 += a1[i]
			s2 += a2[i]
			s3 += a3[i]
			s0 -= b0[i]
			s1 -= b1[i]
			s2 -= b2[i]
			s3 -= b3[i]
			d0[i] = s0 / full
			d1[i] = s1 / full
			d2[i] = s2 / full
			d3[i] = s3 / full
		}
	} else {
		for i := range d0 {
			s0 += a0[i]
			s1 += a1[i]
			s2 += a2[i]
			s3 += a3[i]
			s0 -= b0[i]
			s1 -= b1[i]
			s2 -= b2[i]
			s3 -= b3[i]
			d0[i] = s0
			d1[i] = s1
			d2[i] = s2
			d3[i] = s3
		}
	}
	return [batch]float32{s0, s1, s2, s3}
}

// boxTail is phase 4: the window shrinks at the end of the row.
func boxTail(in, out []float32, ph boxPhases, sum float32, divide bool) {
	li := ph.p3
	o := ph.p2 + ph.p3
	cnt := ph.p1 + ph.p2
	for range ph.p4 {
		sum -= in[li]
		li++
		cnt--
		if divide {
			out[o] = sum / float32(cnt)
		} else {
			out[o] = sum
		}
		o++
	}
}

// Element-wise steps of the column passes; each keeps the reference's
// per-column order (add the entering row, then subtract the leaving one).

func addRow(sum, in []float32) {
	in = in[:len(sum)]
	for j := range sum {
		sum[j] += in[j]
	}
}

func addSubRow(sum, in, out []float32) {
	in = in[:len(sum)]
	out = out[:len(sum)]
	for j := range sum {
		s := sum[j] + in[j]
		sum[j] = s - out[j]
	}
}

func subRow(sum, out []float32) {
	out = out[:len(sum)]
	for j := range sum {
		sum[j] -= out[j]
	}
}

func divRow(dst, sum []float32, cnt int) {
	c := float32(cnt)
	dst = dst[:len(sum)]
	for j := range sum {
		dst[j] = sum[j] / c
	}
}

// rowSource yields the luma of row r (0 ≤ r < rows) as cols float32
// values. It may fill scratch and return it, or return its own storage,
// which the caller must not modify.
type rowSource interface {
	row(r int, scratch []float32) []float32
}

// engine holds the working memory of one hash; engines are pooled.
type engine struct {
	rows, cols int
	wr, wc     int // window along rows (passes 1, 3) and along columns (2, 4)

	luma    []float32 // batch rows of luma
	ring    []float32 // wc+batch rows of pass-1 output
	colSum  []float32 // pass-2 running sums, one per column
	rowOut  []float32 // batch rows of pass-2 output
	rowSums []float32 // batch rows of pass-3 running sums
	compact []float32 // rows × len(needCol) pass-3 outputs
	sum4    []float32 // pass-4 running sums, one per kept column
	out4    []float32 // len(needRow) × len(needCol) pass-4 outputs

	needCol []int // distinct columns the decimation keeps, ascending
	needRow []int // distinct rows the decimation keeps, ascending
	colIdx  [64]int
	rowIdx  [64]int
	colDiv  [64]float32 // pass-3 window size at each kept column

	a64 [64][64]float32
	t   [16][64]float32
	b   [16][16]float32

	// Row sources and their column tables, kept here so that a hash
	// allocates nothing once the pool is warm.
	isrc    imageSource
	lsrc    lumaSource
	xs, cxs []int
}

// wipe zeroes every buffer that held image-derived values.
func (e *engine) wipe() {
	clear(e.luma)
	clear(e.ring)
	clear(e.colSum)
	clear(e.rowOut)
	clear(e.rowSums)
	clear(e.compact)
	clear(e.sum4)
	clear(e.out4)
	e.a64 = [64][64]float32{}
	e.t = [16][64]float32{}
	e.b = [16][16]float32{}
	e.isrc.pal = [256]float32{}
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// decimationIndex is the reference decimateFloat's source index for
// output i of 64, computed in double as it does.
func decimationIndex(i, n int) int {
	return int((float64(i) + 0.5) * float64(n) / 64)
}

// keep fills the distinct kept indices for a dimension of n samples and
// each output's position among them.
func keep(n int, need []int, idx *[64]int) []int {
	need = need[:0]
	for i := range 64 {
		v := decimationIndex(i, n)
		if len(need) == 0 || need[len(need)-1] != v {
			need = append(need, v)
		}
		idx[i] = len(need) - 1
	}
	return need
}

// downsample fills e.a64 from src, blurred and decimated as the
// reference's jaroszFilterFloat (two XY passes) then decimateFloat.
func (e *engine) downsample(src rowSource, rows, cols int) {
	e.rows, e.cols = rows, cols
	e.wr = windowSize(cols)
	e.wc = windowSize(rows)
	e.needCol = keep(cols, e.needCol, &e.colIdx)
	e.needRow = keep(rows, e.needRow, &e.rowIdx)
	nc := len(e.needCol)
	pcols := phasesFor(cols, e.wr)
	for k, c := range e.needCol {
		e.colDiv[k] = float32(pcols.count(c))
	}

	ringN := e.wc + batch
	e.luma = grow(e.luma, batch*cols)
	e.ring = grow(e.ring, ringN*cols)
	e.colSum = grow(e.colSum, cols)
	e.rowOut = grow(e.rowOut, batch*cols)
	e.rowSums = grow(e.rowSums, batch*cols)
	e.compact = grow(e.compact, rows*nc)
	clear(e.colSum)
	part := func(buf []float32, k int) []float32 { return buf[k*cols : (k+1)*cols] }
	slot := func(r int) []float32 { return part(e.ring, r%ringN) }

	// Pass 1 (rows), a batch at a time, ahead of pass 2. The ring holds
	// rows li..produced-1, at most wc+batch of them.
	var ins, outs [batch][]float32
	produced := 0
	ensure := func(r int) []float32 {
		for produced <= r {
			n := min(batch, rows-produced)
			for k := range n {
				ins[k] = src.row(produced+k, part(e.luma, k))
				outs[k] = slot(produced + k)
			}
			boxRows(ins[:n], outs[:n], e.wr, true)
			produced += n
		}
		return slot(r)
	}

	// Pass 3 (rows), a batch of pass-2 rows at a time, dividing only at
	// the kept columns.
	pending, first := 0, 0
	flush := func() {
		for k := range pending {
			ins[k], outs[k] = part(e.rowOut, k), part(e.rowSums, k)
		}
		boxRows(ins[:pending], outs[:pending], e.wr, false)
		for k := range pending {
			sums := outs[k]
			dst := e.compact[(first+k)*nc : (first+k+1)*nc]
			for kk, c := range e.needCol {
				dst[kk] = sums[c] / e.colDiv[kk]
			}
		}
		pending = 0
	}
	emit := func(o, cnt int) {
		if pending == 0 {
			first = o
		}
		divRow(part(e.rowOut, pending), e.colSum, cnt)
		pending++
		if pending == batch {
			flush()
		}
	}

	// Pass 2 (columns), row-major, driving the other two.
	ph := phasesFor(rows, e.wc)
	ri, li, o, cnt := 0, 0, 0, 0
	for range ph.p1 {
		addRow(e.colSum, ensure(ri))
		ri++
		cnt++
	}
	for range ph.p2 {
		addRow(e.colSum, ensure(ri))
		ri++
		cnt++
		emit(o, cnt)
		o++
	}
	for range ph.p3 {
		in := ensure(ri)
		addSubRow(e.colSum, in, slot(li))
		ri++
		li++
		emit(o, cnt)
		o++
	}
	for range ph.p4 {
		subRow(e.colSum, slot(li))
		li++
		cnt--
		emit(o, cnt)
		o++
	}
	if pending > 0 {
		flush()
	}

	e.pass4()
	for i := range 64 {
		row := e.out4[e.rowIdx[i]*nc : e.rowIdx[i]*nc+nc]
		for j := range 64 {
			e.a64[i][j] = row[e.colIdx[j]]
		}
	}
}

// pass4 is the second column pass, on the kept columns only, with
// outputs at the kept rows only.
func (e *engine) pass4() {
	nc := len(e.needCol)
	rows := e.rows
	e.sum4 = grow(e.sum4, nc)
	e.out4 = grow(e.out4, len(e.needRow)*nc)
	sum := e.sum4
	clear(sum)
	ph := phasesFor(rows, e.wc)
	next := 0
	emit := func(o, cnt int) {
		if next < len(e.needRow) && e.needRow[next] == o {
			divRow(e.out4[next*nc:next*nc+nc], sum, cnt)
			next++
		}
	}
	in := func(r int) []float32 { return e.compact[r*nc : r*nc+nc] }
	ri, li, o, cnt := 0, 0, 0, 0
	for range ph.p1 {
		addRow(sum, in(ri))
		ri++
		cnt++
	}
	for range ph.p2 {
		addRow(sum, in(ri))
		ri++
		cnt++
		emit(o, cnt)
		o++
	}
	for range ph.p3 {
		addSubRow(sum, in(ri), in(li))
		ri++
		li++
		emit(o, cnt)
		o++
	}
	for range ph.p4 {
		subRow(sum, in(li))
		li++
		cnt--
		emit(o, cnt)
		o++
	}
}

// copy64 is the reference's shortcut for a 64×64 input in
// pdqHash256FromFloatLuma: no blur at all.
func (e *engine) copy64(src rowSource) {
	e.luma = grow(e.luma, 64)
	for r := range 64 {
		copy(e.a64[r][:], src.row(r, e.luma))
	}
}
