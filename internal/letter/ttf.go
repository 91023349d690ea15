package letter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

// errBadFont is wrapped by every error about a font file that does not
// parse as a TrueType font with glyf outlines.
var errBadFont = errors.New("letter: not a usable TrueType font")

// ttf is a parsed TrueType font: what the writer needs to measure text, map
// characters to glyphs and embed a subset.
type ttf struct {
	tables     map[string][]byte
	unitsPerEm int
	numGlyphs  int
	cmap       map[rune]uint16
	advances   []uint16 // per glyph, in font units
	lsbs       []int16
	psName     string
	bbox       [4]int16
	ascent     int16
	descent    int16
	capHeight  int16
	italic     int32 // post.italicAngle, 16.16 fixed
	fixedPitch bool
}

func u16(b []byte, off int) uint16 { return binary.BigEndian.Uint16(b[off:]) }
func u32(b []byte, off int) uint32 { return binary.BigEndian.Uint32(b[off:]) }

// parseTTF parses the tables the writer needs. It checks bounds itself, so a
// damaged file gives an error, not a panic.
func parseTTF(data []byte) (f *ttf, err error) {
	defer func() {
		if r := recover(); r != nil { // an out-of-range offset in a damaged file
			f, err = nil, fmt.Errorf("%w: %v", errBadFont, r)
		}
	}()
	if len(data) < 12 || u32(data, 0) != 0x00010000 {
		return nil, fmt.Errorf("%w: no TrueType header", errBadFont)
	}
	f = &ttf{tables: map[string][]byte{}}
	n := int(u16(data, 4))
	for i := 0; i < n; i++ {
		rec := data[12+16*i:]
		off, length := int(u32(rec, 8)), int(u32(rec, 12))
		if off+length > len(data) {
			return nil, fmt.Errorf("%w: table %q out of the file", errBadFont, rec[:4])
		}
		f.tables[string(rec[:4])] = data[off : off+length]
	}
	for _, tag := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf", "cmap"} {
		if f.tables[tag] == nil {
			return nil, fmt.Errorf("%w: no %s table", errBadFont, tag)
		}
	}
	head := f.tables["head"]
	f.unitsPerEm = int(u16(head, 18))
	for i := range f.bbox {
		f.bbox[i] = int16(u16(head, 36+2*i))
	}
	if f.unitsPerEm == 0 || u16(head, 50) > 1 {
		return nil, fmt.Errorf("%w: bad head table", errBadFont)
	}
	f.numGlyphs = int(u16(f.tables["maxp"], 4))
	hhea := f.tables["hhea"]
	f.ascent, f.descent = int16(u16(hhea, 4)), int16(u16(hhea, 6))
	f.capHeight = f.ascent
	if os2 := f.tables["OS/2"]; len(os2) >= 90 && u16(os2, 0) >= 2 {
		f.capHeight = int16(u16(os2, 88))
	}
	if post := f.tables["post"]; len(post) >= 16 {
		f.italic = int32(u32(post, 4))
		f.fixedPitch = u32(post, 12) != 0
	}
	nh := int(u16(hhea, 34))
	hmtx := f.tables["hmtx"]
	f.advances = make([]uint16, f.numGlyphs)
	f.lsbs = make([]int16, f.numGlyphs)
	for g := 0; g < f.numGlyphs; g++ {
		if g < nh {
			f.advances[g], f.lsbs[g] = u16(hmtx, 4*g), int16(u16(hmtx, 4*g+2))
		} else {
			f.advances[g], f.lsbs[g] = f.advances[nh-1], int16(u16(hmtx, 4*nh+2*(g-nh)))
		}
	}
	if f.cmap, err = parseCmap(f.tables["cmap"]); err != nil {
		return nil, err
	}
	f.psName = postScriptName(f.tables["name"])
	return f, nil
}

// parseCmap reads the Unicode map: the full-repertoire format 12 subtable
// when there is one, else the BMP format 4 one.
func parseCmap(c []byte) (map[rune]uint16, error) {
	var fmt4, fmt12 []byte
	for i := 0; i < int(u16(c, 2)); i++ {
		platform, encoding, off := u16(c, 4+8*i), u16(c, 6+8*i), int(u32(c, 8+8*i))
		sub := c[off:]
		switch format := u16(sub, 0); {
		case format == 12 && (platform == 3 && encoding == 10 || platform == 0 && encoding == 4):
			fmt12 = sub
		case format == 4 && (platform == 3 && encoding == 1 || platform == 0 && encoding == 3):
			fmt4 = sub
		}
	}
	m := map[rune]uint16{}
	switch {
	case fmt12 != nil:
		for i := 0; i < int(u32(fmt12, 12)); i++ {
			g := fmt12[16+12*i:]
			start, end, gid := u32(g, 0), u32(g, 4), u32(g, 8)
			for r := start; r <= end && r <= 0x10FFFF; r++ {
				m[rune(r)] = uint16(gid + r - start)
			}
		}
	case fmt4 != nil:
		segs := int(u16(fmt4, 6)) / 2
		ends, starts, deltas, ranges := 14, 16+2*segs, 16+4*segs, 16+6*segs
		for s := 0; s < segs; s++ {
			end, start := u16(fmt4, ends+2*s), u16(fmt4, starts+2*s)
			delta, ro := u16(fmt4, deltas+2*s), int(u16(fmt4, ranges+2*s))
			for r := int(start); r <= int(end) && r != 0xFFFF; r++ {
				var g uint16
				if ro == 0 {
					g = uint16(r) + delta
				} else if g = u16(fmt4, ranges+2*s+ro+2*(r-int(start))); g != 0 {
					g += delta
				}
				if g != 0 {
					m[rune(r)] = g
				}
			}
		}
	default:
		return nil, fmt.Errorf("%w: no Unicode cmap", errBadFont)
	}
	return m, nil
}

// postScriptName is name ID 6 (Windows, then Mac), which becomes the
// embedded font's name.
func postScriptName(name []byte) string {
	if len(name) < 6 {
		return "Font"
	}
	count, strs := int(u16(name, 2)), int(u16(name, 4))
	for i := 0; i < count; i++ {
		rec := name[6+12*i:]
		platform, id, length, off := u16(rec, 0), u16(rec, 6), int(u16(rec, 8)), int(u16(rec, 10))
		if id != 6 {
			continue
		}
		s := name[strs+off : strs+off+length]
		if platform == 3 { // UTF-16BE
			var out []byte
			for j := 0; j+1 < len(s); j += 2 {
				out = append(out, s[j+1])
			}
			return string(out)
		}
		return string(s)
	}
	return "Font"
}

// glyph returns glyph g's outline data.
func (f *ttf) glyph(g uint16) []byte {
	loca, glyf := f.tables["loca"], f.tables["glyf"]
	var start, end int
	if u16(f.tables["head"], 50) == 1 {
		start, end = int(u32(loca, 4*int(g))), int(u32(loca, 4*int(g)+4))
	} else {
		start, end = 2*int(u16(loca, 2*int(g))), 2*int(u16(loca, 2*int(g)+2))
	}
	if end <= start || end > len(glyf) {
		return nil
	}
	return glyf[start:end]
}

// components lists the glyphs a composite glyph is made of.
func components(data []byte) []uint16 {
	if len(data) < 10 || int16(u16(data, 0)) >= 0 {
		return nil
	}
	var out []uint16
	for off := 10; off+4 <= len(data); {
		flags := u16(data, off)
		out = append(out, u16(data, off+2))
		off += 4
		if flags&0x0001 != 0 { // ARG_1_AND_2_ARE_WORDS
			off += 4
		} else {
			off += 2
		}
		switch {
		case flags&0x0008 != 0: // WE_HAVE_A_SCALE
			off += 2
		case flags&0x0040 != 0: // WE_HAVE_AN_X_AND_Y_SCALE
			off += 4
		case flags&0x0080 != 0: // WE_HAVE_A_TWO_BY_TWO
			off += 8
		}
		if flags&0x0020 == 0 { // MORE_COMPONENTS
			break
		}
	}
	return out
}

// subset returns a TrueType font holding only the glyphs used (and the
// components of composite ones), keeping every glyph's number so that the
// CIDToGIDMap can name the original glyphs; unused glyphs are empty and
// have no width. Hinting tables, OS/2 and name (with the copyright and the
// licence) are kept; layout tables (GSUB, GPOS…) are not needed by a PDF.
// The cmap is rebuilt for the used BMP characters.
func (f *ttf) subset(used map[uint16]bool, chars map[rune]uint16) ([]byte, error) {
	keep := map[uint16]bool{0: true}
	work := []uint16{0}
	for g := range used {
		work = append(work, g)
	}
	for len(work) > 0 {
		g := work[len(work)-1]
		work = work[:len(work)-1]
		if int(g) >= f.numGlyphs {
			return nil, fmt.Errorf("%w: glyph %d out of range", errBadFont, g)
		}
		keep[g] = true
		for _, c := range components(f.glyph(g)) {
			if !keep[c] {
				work = append(work, c)
			}
		}
	}
	n := 0
	for g := range keep {
		n = max(n, int(g)+1)
	}

	var glyf, loca, hmtx []byte
	for g := 0; g < n; g++ {
		loca = binary.BigEndian.AppendUint32(loca, uint32(len(glyf)))
		if keep[uint16(g)] {
			glyf = append(glyf, f.glyph(uint16(g))...)
			for len(glyf)%4 != 0 {
				glyf = append(glyf, 0)
			}
			hmtx = binary.BigEndian.AppendUint16(hmtx, f.advances[g])
			hmtx = binary.BigEndian.AppendUint16(hmtx, uint16(f.lsbs[g]))
		} else {
			hmtx = append(hmtx, 0, 0, 0, 0)
		}
	}
	loca = binary.BigEndian.AppendUint32(loca, uint32(len(glyf)))

	head := slices.Clone(f.tables["head"])
	binary.BigEndian.PutUint32(head[8:], 0)  // checkSumAdjustment, set below
	binary.BigEndian.PutUint16(head[50:], 1) // long loca
	hhea := slices.Clone(f.tables["hhea"])
	binary.BigEndian.PutUint16(hhea[34:], uint16(n))
	maxp := slices.Clone(f.tables["maxp"])
	binary.BigEndian.PutUint16(maxp[4:], uint16(n))
	post := make([]byte, 32) // format 3: no glyph names
	binary.BigEndian.PutUint32(post, 0x00030000)
	if p := f.tables["post"]; len(p) >= 32 {
		copy(post[4:], p[4:32])
	}
	tables := map[string][]byte{
		"head": head, "hhea": hhea, "maxp": maxp, "hmtx": hmtx, "loca": loca, "glyf": glyf,
		"post": post, "cmap": buildCmap(chars),
	}
	for _, tag := range []string{"cvt ", "fpgm", "prep", "gasp", "OS/2", "name"} {
		if t := f.tables[tag]; t != nil {
			tables[tag] = t
		}
	}
	out := writeSfnt(tables)
	binary.BigEndian.PutUint32(out[headOffset(out):][8:], 0xB1B0AFBA-checksum(out))
	return out, nil
}

// buildCmap is a (3,1) format 4 subtable, one segment per character, for the
// BMP characters drawn with the subset.
func buildCmap(chars map[rune]uint16) []byte {
	var rs []rune
	for r := range chars {
		if r <= 0xFFFE {
			rs = append(rs, r)
		}
	}
	slices.Sort(rs)
	rs = rs[:min(len(rs), 8000)] // a format 4 subtable is at most 64 KiB; viewers use the CIDToGIDMap anyway
	segs := len(rs) + 1          // the final 0xFFFF segment
	sub := make([]byte, 16+8*segs)
	binary.BigEndian.PutUint16(sub[0:], 4)
	binary.BigEndian.PutUint16(sub[2:], uint16(len(sub)))
	binary.BigEndian.PutUint16(sub[6:], uint16(2*segs))
	sr := 2 << (bits.Len(uint(segs)) - 1)
	binary.BigEndian.PutUint16(sub[8:], uint16(sr))
	binary.BigEndian.PutUint16(sub[10:], uint16(bits.Len(uint(segs))-1))
	binary.BigEndian.PutUint16(sub[12:], uint16(2*segs-sr))
	ends, starts, deltas := 14, 16+2*segs, 16+4*segs
	for i, r := range rs {
		binary.BigEndian.PutUint16(sub[ends+2*i:], uint16(r))
		binary.BigEndian.PutUint16(sub[starts+2*i:], uint16(r))
		binary.BigEndian.PutUint16(sub[deltas+2*i:], chars[r]-uint16(r))
	}
	last := segs - 1
	binary.BigEndian.PutUint16(sub[ends+2*last:], 0xFFFF)
	binary.BigEndian.PutUint16(sub[starts+2*last:], 0xFFFF)
	binary.BigEndian.PutUint16(sub[deltas+2*last:], 1)
	// idRangeOffsets stay 0.
	c := []byte{0, 0, 0, 1, 0, 3, 0, 1, 0, 0, 0, 12}
	return append(c, sub...)
}

// writeSfnt lays out the tables with their directory, sorted by tag, each
// 4-byte aligned and checksummed.
func writeSfnt(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	slices.Sort(tags)
	n := len(tags)
	es := bits.Len(uint(n)) - 1
	out := make([]byte, 12+16*n)
	binary.BigEndian.PutUint32(out, 0x00010000)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	binary.BigEndian.PutUint16(out[6:], uint16(16<<es))
	binary.BigEndian.PutUint16(out[8:], uint16(es))
	binary.BigEndian.PutUint16(out[10:], uint16(16*n-16<<es))
	for i, tag := range tags {
		t := tables[tag]
		rec := out[12+16*i:]
		copy(rec, tag)
		binary.BigEndian.PutUint32(rec[4:], checksum(t))
		binary.BigEndian.PutUint32(rec[8:], uint32(len(out)))
		binary.BigEndian.PutUint32(rec[12:], uint32(len(t)))
		out = append(out, t...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out
}

// headOffset finds the head table in a font written by writeSfnt.
func headOffset(font []byte) int {
	for i := 0; i < int(u16(font, 4)); i++ {
		if string(font[12+16*i:16+16*i]) == "head" {
			return int(u32(font, 20+16*i))
		}
	}
	return 0
}

// checksum is the TrueType table checksum: the sum of big-endian uint32s,
// the last one zero-padded.
func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}
