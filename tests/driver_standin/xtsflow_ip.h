/* Stand-in for the driver Vitis HLS export_design generates for the top function tsflow_ip with
 * hls.interface s_axilite (drivers/tsflow_ip_v1_0/src/xtsflow_ip.h): the declarations tsflow_example.c
 * uses, with the signatures of UG1399's "AXI4-Lite Slave C Driver Reference" (X<DUT>_Initialize,
 * X<DUT>_Start, X<DUT>_IsDone, X<DUT>_Write_ARG_Words, X<DUT>_Read_ARG_Words). Written for the tests:
 * the example is compiled against it with gcc -fsyntax-only, never linked or run. */
#ifndef XTSFLOW_IP_H
#define XTSFLOW_IP_H

#include "xil_types.h"
#include "xstatus.h"

typedef struct {
    u64 Control_BaseAddress;
    u32 IsReady;
} XTsflow_ip;

#ifdef SDT
int XTsflow_ip_Initialize(XTsflow_ip *InstancePtr, UINTPTR BaseAddress);
#else
int XTsflow_ip_Initialize(XTsflow_ip *InstancePtr, u16 DeviceId);
#endif
void XTsflow_ip_Start(XTsflow_ip *InstancePtr);
u32 XTsflow_ip_IsDone(XTsflow_ip *InstancePtr);
u32 XTsflow_ip_Write_window_Words(XTsflow_ip *InstancePtr, int offset, int *data, int length);
u32 XTsflow_ip_Read_forecast_Words(XTsflow_ip *InstancePtr, int offset, int *data, int length);

#endif
