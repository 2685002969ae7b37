//go:build cgo && linux

package appliance

import (
	"fmt"
	"testing"
)

func TestZZTypedAnswers(t *testing.T) {
	a := start(t, Options{})
	for _, set := range [][]string{spokenVisitorQuestions, spokenOffTopic, tuningVisitorQuestions, tuningOffTopic} {
		for _, q := range set {
			fmt.Printf("ANS\t%s\t%s\n", q, typedAnswer(t, a, q, "en"))
		}
	}
	for _, set := range [][]string{spokenSpanishQuestions, spokenSpanishOffTopic, tuningSpanishQuestions, tuningSpanishOffTopic} {
		for _, q := range set {
			fmt.Printf("ANS\t%s\t%s\n", q, typedAnswer(t, a, q, "es"))
		}
	}
}
