package langid

import "testing"

func TestDetect(t *testing.T) {
	d := New(map[string][]string{
		"en": {"what are the opening hours", "how much is a ticket", "where are the toilets", "the museum is closed on mondays", "we are open from ten to six"},
		"es": {"cuál es el horario", "cuánto cuesta la entrada", "dónde están los baños", "el museo cierra los lunes", "abrimos de diez a seis"},
	})
	cases := map[string]string{
		"When does the museum open?":       "en",
		"¿A qué hora abre el museo?":       "es",
		"where is the cafe":                "en",
		"dónde está la cafetería":          "es",
		"is there a discount for students": "en",
		"hay descuento para estudiantes":   "es",
		"¿niños?":                          "es",
	}
	for in, want := range cases {
		if got, conf := d.Detect(in); got != want {
			t.Errorf("%q -> %s (%.2f), want %s", in, got, conf, want)
		}
	}
	if got, conf := New(map[string][]string{"en": {"hello"}}).Detect("hola"); got != "en" || conf != 1 {
		t.Errorf("one language: %s %v", got, conf)
	}
}
