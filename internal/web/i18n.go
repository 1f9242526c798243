package web

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// localeFS holds the message catalogues, one file per language:
// locales/active.LANG.toml. English is the reference and the fallback.
//
//go:embed locales/active.*.toml
var localeFS embed.FS

// langCookie remembers a language chosen with ?lang=. It is a preference,
// not a secret, but is still HttpOnly: no script needs it.
const langCookie = "alliance_lang"

// catalogue is the set of languages the UI speaks.
type catalogue struct {
	bundle  *i18n.Bundle
	tags    []language.Tag // supported languages, English first
	matcher language.Matcher
	byTag   map[language.Tag]*translator
}

// loadCatalogue reads every embedded catalogue. English must be present.
func loadCatalogue() (*catalogue, error) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	files, err := fs.Glob(localeFS, "locales/active.*.toml")
	if err != nil {
		return nil, fmt.Errorf("web: list catalogues: %w", err)
	}
	slices.Sort(files)
	haveEnglish := false
	for _, f := range files {
		mf, err := b.LoadMessageFileFS(localeFS, f)
		if err != nil {
			return nil, fmt.Errorf("web: load catalogue %s: %w", f, err)
		}
		if mf.Tag == language.English {
			haveEnglish = true
		}
	}
	if !haveEnglish {
		return nil, errors.New("web: no English catalogue (locales/active.en.toml)")
	}
	// NewBundle puts the default language first, so the matcher falls back to it.
	c := &catalogue{bundle: b, tags: slices.Clone(b.LanguageTags()), byTag: make(map[language.Tag]*translator)}
	c.matcher = language.NewMatcher(c.tags)
	for _, tag := range c.tags {
		c.byTag[tag] = newTranslator(b, tag)
	}
	return c, nil
}

// lookup returns the supported language closest to the given tags, and
// whether any of them was close enough to count as a match.
func (c *catalogue) lookup(tags ...language.Tag) (language.Tag, bool) {
	if len(tags) == 0 {
		return c.tags[0], false
	}
	// Use the index, not the returned tag: Match adds extensions ("sv-u-rg-…").
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return c.tags[0], false
	}
	return c.tags[i], true
}

// parse returns the supported language named by s ("sv", "sv-SE"), if any.
func (c *catalogue) parse(s string) (language.Tag, bool) {
	if s == "" || len(s) > 35 {
		return language.Und, false
	}
	t, err := language.Parse(s)
	if err != nil {
		return language.Und, false
	}
	return c.lookup(t)
}

// choose picks the language of a request: ?lang= (remembered in a cookie),
// then that cookie, then Accept-Language, then English. It returns the
// cookie to set when ?lang= named a supported language.
func (c *catalogue) choose(r *http.Request, secure bool) (*translator, *http.Cookie) {
	if q := r.URL.Query().Get("lang"); q != "" {
		if t, ok := c.parse(q); ok {
			return c.byTag[t], &http.Cookie{
				Name: langCookie, Value: t.String(), Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
				Secure: secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
			}
		}
	}
	if ck, err := r.Cookie(langCookie); err == nil {
		if t, ok := c.parse(ck.Value); ok {
			return c.byTag[t], nil
		}
	}
	if h := r.Header.Get("Accept-Language"); h != "" && len(h) < 1024 {
		if tags, _, err := language.ParseAcceptLanguage(h); err == nil {
			if t, ok := c.lookup(tags...); ok {
				return c.byTag[t], nil
			}
		}
	}
	return c.byTag[c.tags[0]], nil
}

// translator localises messages, country names and sort order for one language.
type translator struct {
	tag     language.Tag
	loc     *i18n.Localizer
	regions display.Namer
	self    string // the language's own name for itself, e.g. "svenska"
}

func newTranslator(b *i18n.Bundle, tag language.Tag) *translator {
	return &translator{
		tag:     tag,
		loc:     i18n.NewLocalizer(b, tag.String()),
		regions: display.Regions(tag),
		self:    display.Self.Name(tag),
	}
}

// T returns the message id in the translator's language, falling back to
// English. args are name/value pairs for the message template; a "Count"
// pair also picks the plural form. It is the template function "t".
func (tr *translator) T(id string, args ...any) (string, error) {
	var data map[string]any
	if len(args) > 0 {
		if len(args)%2 != 0 {
			return "", fmt.Errorf("web: t %q: odd number of arguments", id)
		}
		data = make(map[string]any, len(args)/2)
		for i := 0; i < len(args); i += 2 {
			k, ok := args[i].(string)
			if !ok {
				return "", fmt.Errorf("web: t %q: argument %d is not a name", id, i)
			}
			data[k] = args[i+1]
		}
	}
	msg, err := tr.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: data["Count"]})
	if msg != "" {
		// A message missing in this language comes back in English with an
		// error; showing English beats failing the page.
		return msg, nil
	}
	return "", fmt.Errorf("web: t %q: %w", id, err)
}

// Country returns the name of the country with ISO code cc in the
// translator's language (from CLDR), or fallback when CLDR has none.
func (tr *translator) Country(cc, fallback string) string {
	if r, err := language.ParseRegion(cc); err == nil {
		if n := tr.regions.Name(r); n != "" {
			return n
		}
	}
	return fallback
}

// collator returns a collator that sorts in the translator's language.
func (tr *translator) collator() *collate.Collator {
	return collate.New(tr.tag, collate.IgnoreCase)
}

// langLink is one entry of the language switcher.
type langLink struct {
	Tag     string // BCP 47, for hreflang and lang
	Name    string // the language's name for itself
	URL     string // the current page in that language
	Current bool
}

// languageLinks returns the language switcher for a request: the current
// path with ?lang= set to each supported language.
func (c *catalogue) languageLinks(r *http.Request, current language.Tag) []langLink {
	out := make([]langLink, 0, len(c.tags))
	for _, t := range c.tags {
		q := r.URL.Query()
		q.Set("lang", t.String())
		p := r.URL.Path
		if p == "" || !strings.HasPrefix(p, "/") {
			p = "/"
		}
		out = append(out, langLink{
			Tag: t.String(), Name: c.byTag[t].self, URL: path.Clean(p) + "?" + q.Encode(), Current: t == current,
		})
	}
	return out
}
