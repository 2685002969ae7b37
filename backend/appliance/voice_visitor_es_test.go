//go:build cgo && linux

package appliance

// Spoken visitor questions in Spanish (issue 13): as voice_visitor_test.go in English,
// questions the demo can answer but does not list, and off-topic ones, spoken by espeak-ng's
// Spanish voices through POST /v1/voice?lang=es. The built-in Spanish recognizer has no free
// readings (its language model, of the content's Spanish on English phones, hears free Spanish
// too badly to be offered: backend/voice/sphinx, freeReadings), so its grammar's sentence is
// the only reading, and nothing tells a question the grammar holds from one it was forced onto
// (English has Forced, the acoustic comparison with the language model's best path; for Spanish
// it did not separate them: docs/BENCHMARKS.md). The tries were measured on the tuning
// questions and voices (TestSpokenSpanishVisitorTuning), never on the test's.

import (
	"os"
	"testing"
)

// spokenSpanishQuestions were written for this test, none of them in the demo pack (checked by
// spokenSpanishSets); the typed question's answer is the one the spoken question must get.
var spokenSpanishQuestions = []string{
	"abrís los domingos por la mañana", "cuándo cerráis esta tarde", "está abierto el museo en navidad",
	"qué cuesta entrar al museo", "hay descuento para familias numerosas", "los niños pequeños pagan entrada",
	"cuánto cuesta la entrada para estudiantes", "es gratis para los vecinos de la ciudad",
	"se pueden comprar entradas en la puerta", "aceptan tarjeta de crédito", "me dices las señas del museo",
	"qué tranvía me acerca al museo", "está lejos la estación de tren", "hay sitio para el coche cerca",
	"cuánto cuesta aparcar", "se puede visitar en silla de ruedas", "prestan sillas de ruedas",
	"me urge encontrar un servicio", "dónde puedo dejar la chaqueta", "por dónde se sale del museo",
	"hay un sitio para tomar algo", "tienen comida vegetariana", "qué se puede comprar en la tienda",
	"a qué hora abre la tienda", "hay visitas guiadas en español", "cuánto cuesta la visita guiada",
	"me apuntas a la visita del sábado", "la audioguía cuesta dinero", "se puede grabar con el móvil",
	"se pueden hacer fotos con flash", "dejan pasar a los gatos", "qué exposición temporal hay",
	"de qué va la exposición río de luz", "qué hay en la galería marítima", "qué obras son las más famosas",
	"qué pueden hacer los niños en el museo", "se puede entrar con un carrito de bebé",
	"hacéis descuento a los grupos", "cómo reservo una visita para mi clase", "cómo se llama la red wifi",
	"se me ha caído la cartera en una sala", "alguien ha visto una bufanda roja", "qué ventajas tiene ser socio",
	"cómo me hago socio del museo", "cuál es vuestro correo electrónico", "a qué número puedo llamar",
	"cuánto dura la visita al museo", "puede atenderme un empleado", "cuándo se construyó el edificio",
	"quién fundó el museo",
}

// spokenSpanishOffTopic are questions the demo has nothing for: a repair or the fallback.
var spokenSpanishOffTopic = []string{
	"qué temperatura hace fuera", "llama a mi madre", "cuánto es siete por ocho", "cuéntame algo gracioso",
	"quién es el presidente del gobierno", "apaga la luz", "pide una pizza",
	"dónde está el hospital más cercano", "traduce buenos días al francés", "cuál es la capital de australia",
	"pon la radio", "cómo reinicio el ordenador", "reserva una mesa en un restaurante",
	"cuánto cuesta un billete de avión a madrid", "qué equipo ganó la liga",
}

// tuningSpanishQuestions and tuningSpanishOffTopic are the tuning counterparts, spoken by
// spanishTuningSpeakers.
var tuningSpanishQuestions = []string{
	"a qué hora abre el museo los sábados", "cierra el museo los lunes", "hasta qué hora se puede entrar",
	"cuánto cuesta una entrada para un adulto", "los jubilados pagan menos", "hay entrada gratuita algún día",
	"se pueden reservar entradas desde casa", "dónde está el museo exactamente", "pasa algún autobús junto al museo",
	"hay aparcamiento para bicicletas", "el museo tiene ascensor", "hay servicios en esta planta",
	"hay cafetería en el museo", "se puede comer algo en el museo", "venden libros en la tienda",
	"cuándo empieza el recorrido con guía", "quiero apuntarme a la visita de mañana", "tienen audioguías en inglés",
	"se permite hacer fotos", "se permiten mascotas dentro", "qué se expone en estas semanas",
	"qué es lo más importante que ver", "hay actividades para los niños", "cómo reservo una visita para un colegio",
	"hay conexión a internet para visitantes", "me he dejado las gafas en algún sitio", "cuánto cuesta hacerse socio", "cómo puedo llamar al museo",
	"en cuántas horas se ve el museo", "quiero hablar con alguien del personal",
}

var tuningSpanishOffTopic = []string{
	"qué tiempo hará mañana", "pídeme un taxi", "cuánto es dos más dos", "cuéntame un chiste",
	"quién ganó el partido de ayer", "pon música", "dónde hay una farmacia", "cómo se dice hola en alemán",
	"recomiéndame una película", "qué hora es en tokio",
}

// spokenSpanishSets starts the appliance for a Spanish set, after checking that none of its
// questions is one the content lists.
func spokenSpanishSets(t *testing.T, sets ...[]string) *Appliance {
	t.Helper()
	needSpeechTools(t)
	a := startVoice(t, Options{})
	notListed(t, a, "es", sets...)
	if _, err := a.Voice.Recognizer("es"); err != nil {
		t.Skipf("no Spanish recognizer in this build: %v", err)
	}
	return a
}

// TestSpokenSpanishVisitorQuestions measures the Spanish spoken visitor questions on the test
// voices (figures in docs/BENCHMARKS.md).
func TestSpokenSpanishVisitorQuestions(t *testing.T) {
	a := spokenSpanishSets(t, spokenSpanishQuestions, spokenSpanishOffTopic)
	res := speakVisitorsIn(t, a, "es", spokenSpanishQuestions, spokenSpanishOffTopic, spanishTestSpeakers)
	res.hold(t, visitorFloors{floorDifferentES, floorTypedES, floorTurnedAwayES})
}

// The floors held today (docs/BENCHMARKS.md: measured 34.7% typed, 62.7% different, 13.3% of
// the off-topic turned away on 2026-12-02). Far from English's budgets: with no free readings,
// the grammar's nearest sentence is answered whatever was said.
const floorDifferentES, floorTypedES, floorTurnedAwayES = 68.0, 30.0, 8.0

// TestSpokenSpanishVisitorTuning is where the Spanish settings are chosen
// (VOICEBOT_VOICE_TUNING=1); it asserts nothing.
func TestSpokenSpanishVisitorTuning(t *testing.T) {
	if os.Getenv("VOICEBOT_VOICE_TUNING") == "" {
		t.Skip("set VOICEBOT_VOICE_TUNING=1 to measure the Spanish voice path on its tuning set")
	}
	a := spokenSpanishSets(t, tuningSpanishQuestions, tuningSpanishOffTopic)
	speakVisitorsIn(t, a, "es", tuningSpanishQuestions, tuningSpanishOffTopic, spanishTuningSpeakers)
}
