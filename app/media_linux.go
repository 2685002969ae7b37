//go:build desktop && linux && cgo

package app

// Wails does not turn on WebKitGTK's media stream (getUserMedia) nor answer its permission
// requests, so the visitor screen could not use the microphone in the window. Once the page is
// up we find the window's WebKitWebView on the GTK main loop, enable media streams and allow the
// page's microphone requests (the page is the appliance's own; nothing else loads in it).

/*
#cgo pkg-config: gtk+-3.0 webkit2gtk-4.1
#include <gtk/gtk.h>
#include <webkit2/webkit2.h>

static gboolean vb_allow_mic(WebKitWebView *view, WebKitPermissionRequest *req, gpointer data) {
	if (WEBKIT_IS_USER_MEDIA_PERMISSION_REQUEST(req) &&
	    webkit_user_media_permission_is_for_audio_device(WEBKIT_USER_MEDIA_PERMISSION_REQUEST(req)) &&
	    !webkit_user_media_permission_is_for_video_device(WEBKIT_USER_MEDIA_PERMISSION_REQUEST(req))) {
		webkit_permission_request_allow(req);
		return TRUE;
	}
	return FALSE;
}

static WebKitWebView *vb_find_view(GtkWidget *w) {
	if (WEBKIT_IS_WEB_VIEW(w)) return WEBKIT_WEB_VIEW(w);
	if (!GTK_IS_CONTAINER(w)) return NULL;
	GList *children = gtk_container_get_children(GTK_CONTAINER(w));
	WebKitWebView *found = NULL;
	for (GList *l = children; l != NULL && found == NULL; l = l->next) found = vb_find_view(GTK_WIDGET(l->data));
	g_list_free(children);
	return found;
}

static int vb_mock_mic;

static gboolean vb_enable_media(gpointer data) {
	GList *tops = gtk_window_list_toplevels();
	for (GList *l = tops; l != NULL; l = l->next) {
		WebKitWebView *view = vb_find_view(GTK_WIDGET(l->data));
		if (view == NULL || g_object_get_data(G_OBJECT(view), "voicebot-media") != NULL) continue; // once per view, not per page load
		g_object_set_data(G_OBJECT(view), "voicebot-media", GINT_TO_POINTER(1));
		WebKitSettings *s = webkit_web_view_get_settings(view);
		webkit_settings_set_enable_media_stream(s, TRUE);
		webkit_settings_set_media_playback_requires_user_gesture(s, FALSE);
		if (vb_mock_mic) webkit_settings_set_enable_mock_capture_devices(s, TRUE);
		g_signal_connect(view, "permission-request", G_CALLBACK(vb_allow_mic), NULL);
	}
	g_list_free(tops);
	return G_SOURCE_REMOVE;
}

static void vb_schedule_media(int mock) {
	vb_mock_mic = mock;
	g_idle_add(vb_enable_media, NULL);
}
*/
import "C"

// enableMicrophone turns on the web view's media stream (mock: WebKit's own test microphone,
// a tone, for the desktop test under Xvfb, which has no sound card).
func enableMicrophone(mock bool) {
	m := C.int(0)
	if mock {
		m = 1
	}
	C.vb_schedule_media(m)
}
