package s3cors_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// A bucket's configuration, as PutBucketCors takes it.
const photosCORS = `<CORSConfiguration>
  <CORSRule>
    <ID>app</ID>
    <AllowedOrigin>https://app.example.com</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`

// Wrap puts S3's CORS in front of a store's handler: preflights are
// answered from the policy, and actual responses carry the matched rule's
// headers instead of the store's own.
func ExampleWrap() {
	cfg, err := s3cors.ParseXML([]byte(photosCORS))
	if err != nil {
		log.Fatal(err)
	}
	store := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*") // dropped: the rule decides
		w.Header().Set("ETag", `"1"`)
		fmt.Fprint(w, "hello")
	})
	handler := s3cors.Wrap(s3cors.Compile(cfg), store)

	preflight := httptest.NewRequest(http.MethodOptions, "/photos/cat.jpg", nil)
	preflight.Header.Set("Origin", "https://app.example.com")
	preflight.Header.Set("Access-Control-Request-Method", "PUT")
	preflight.Header.Set("Access-Control-Request-Headers", "content-type")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, preflight)
	fmt.Println(rec.Code, rec.Header().Get("Access-Control-Allow-Methods"), rec.Header().Get("Access-Control-Allow-Headers"))

	get := httptest.NewRequest(http.MethodGet, "/photos/cat.jpg", nil)
	get.Header.Set("Origin", "https://evil.example")
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, get)
	fmt.Printf("%d %q %q\n", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"), rec.Body)

	denied := httptest.NewRequest(http.MethodOptions, "/photos/cat.jpg", nil)
	denied.Header.Set("Origin", "https://evil.example")
	denied.Header.Set("Access-Control-Request-Method", "GET")
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, denied)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output:
	// 200 GET, PUT content-type
	// 200 "" "hello"
	// 403 application/xml
}

// Compile turns a parsed configuration into a Policy, which decides
// requests without a ResponseWriter: Evaluate gives the decision, Explain
// says why.
func ExampleCompile() {
	cfg, err := s3cors.ParseXML([]byte(photosCORS))
	if err != nil {
		log.Fatal(err)
	}
	policy := s3cors.Compile(cfg)

	r := httptest.NewRequest(http.MethodOptions, "/photos/cat.jpg", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", "DELETE")
	d := policy.Evaluate(r, true)
	fmt.Println(d.Kind, d.Result, d.Error.Code)
	fmt.Println(policy.Explain(r, true).Rules[0].Failures)

	r.Header.Set("Access-Control-Request-Method", "GET")
	d = policy.Evaluate(r, true)
	fmt.Println(d.Kind, d.Result, d.RuleID())
	// Output:
	// preflight denied AccessForbidden
	// [method "DELETE" is not among AllowedMethod ["GET" "PUT"] (methods compare case-sensitively)]
	// preflight allowed app
}

// ParseXML refuses what S3 refuses, with S3's error document.
func ExampleParseXML() {
	_, err := s3cors.ParseXML([]byte(`<CORSConfiguration><CORSRule>
  <AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>
</CORSRule></CORSConfiguration>`))
	e := err.(*s3cors.Error)
	fmt.Println(e.Status, e.Code)
	fmt.Println(e.Message)
	// Output:
	// 400 InvalidRequest
	// Found unsupported HTTP method in CORS config. Unsupported method is PATCH
}
