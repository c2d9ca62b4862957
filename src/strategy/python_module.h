/* python_module.h — `_tickq`, the builtin module the strategy runner
 * reads the host's frame through (python_module.c). */
#ifndef TICKQ_PYTHON_MODULE_H
#define TICKQ_PYTHON_MODULE_H

/* Its init function, for PyImport_AppendInittab (before Py_Initialize). */
struct _object *python_module_init(void);

#endif
