/*
 * ui.h: the dashboard's files (web/), served from memory (ui.c).
 */
#ifndef GG_UI_H
#define GG_UI_H

#include "http.h"

/* GET|HEAD / and /ui/{name} */
enum MHD_Result ui_handle(struct req *r);

#endif
