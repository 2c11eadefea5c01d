/*
 * Coverage-guided fuzzing of the C decoder and layout walk (src/yapdns/agent/wire/_fastwire.c) with libFuzzer and
 * AddressSanitizer; not part of the test suite. Built and run by scripts/fuzz-fastwire.
 *
 * The helpers are compiled into this harness (#include below) so that libFuzzer sees their coverage; an
 * embedded interpreter gives them the Python objects they take and make. Each input is one DNS message: it goes
 * through decode(), walk(), and the walk with the variant key that scan() makes for a new response. A memory error aborts with ASan's report, and so does any exception: both functions
 * return None for what they do not take and raise only when out of memory.
 */
#include "../../../../src/yapdns/agent/wire/_fastwire.c"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    Py_InitializeEx(0);
    return 0;
}

static void check(PyObject *result)
{
    if (result == NULL) {
        PyErr_Print();
        abort();
    }
    Py_DECREF(result);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    PyObject *message = PyBytes_FromStringAndSize((const char *)data, (Py_ssize_t)size);
    if (message == NULL)
        abort();
    check(decode(NULL, message));
    check(walk(NULL, message));
    check(walk_result(data, (Py_ssize_t)size, 1)); /* the walk and variant key scan() hands to Python */
    Py_DECREF(message);
    return 0;
}
