package letter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Face is a typeface of the letters.
type Face int

// The two faces: IPAex Gothic for headings and codes, IPAex Mincho for the
// body. The IPA Font License lets a document embed them; their OS/2 fsType
// is 0 (installable), so PDF/A may embed them too.
const (
	Gothic Face = iota
	Mincho
)

func (f Face) String() string {
	if f == Gothic {
		return "gothic"
	}
	return "mincho"
}

// fontFiles are each face's file name and the Debian package that installs
// it (scripts/install.sh installs both).
var fontFiles = map[Face]struct{ file, pkg string }{
	Gothic: {"ipaexg.ttf", "fonts-ipaexfont-gothic"},
	Mincho: {"ipaexm.ttf", "fonts-ipaexfont-mincho"},
}

// FontDirEnv names the directory holding ipaexg.ttf and ipaexm.ttf, for
// machines that keep the fonts elsewhere. When set, it is the only place
// looked in.
const FontDirEnv = "MADOGUCHI_FONT_DIR"

// fontDirs are where Debian's packages put the fonts, per face.
var fontDirs = map[Face][]string{
	Gothic: {"/usr/share/fonts/opentype/ipaexfont-gothic", "/usr/share/fonts/truetype/ipaexfont-gothic"},
	Mincho: {"/usr/share/fonts/opentype/ipaexfont-mincho", "/usr/share/fonts/truetype/ipaexfont-mincho"},
}

// ErrFontMissing is returned when a face's font file is not installed: no
// letter is made without its fonts, since an unembedded one shows blank
// boxes on machines without Japanese fonts.
var ErrFontMissing = errors.New("letter: Japanese font file missing")

// FontPath returns the file a face is read from.
func FontPath(f Face) (string, error) {
	ff := fontFiles[f]
	dirs := fontDirs[f]
	if d := os.Getenv(FontDirEnv); d != "" {
		dirs = []string{d}
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, ff.file)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s (Debian package %s, installed by scripts/install.sh)", ErrFontMissing, ff.file, ff.pkg)
}

// Loaded fonts, by path: a font file is read and parsed once per process
// (about 6 MB each). A failure is not kept, so installing the fonts later
// helps without a restart.
var (
	fontMu    sync.Mutex
	fontCache = map[string]*ttf{}
)

func loadFace(f Face) (*ttf, error) {
	p, err := FontPath(f)
	if err != nil {
		return nil, err
	}
	fontMu.Lock()
	defer fontMu.Unlock()
	if t := fontCache[p]; t != nil {
		return t, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFontMissing, err)
	}
	t, err := parseTTF(data)
	if err != nil {
		return nil, fmt.Errorf("letter: %s: %w", p, err)
	}
	fontCache[p] = t
	return t, nil
}

// CheckFonts loads both faces, so a worker can refuse to start, and a test
// fail, when the fonts are missing.
func CheckFonts() error {
	for _, f := range []Face{Gothic, Mincho} {
		if _, err := loadFace(f); err != nil {
			return err
		}
	}
	return nil
}
