/* testobj.h - the `test` object that bin/dopyd serves. */
#ifndef DOPY_TESTOBJ_H
#define DOPY_TESTOBJ_H

#include "dopy.h"

extern const struct dopy_object_def dopy_test_object;
extern const struct dopy_pclass dopy_counter_class, dopy_note_class;

#endif
